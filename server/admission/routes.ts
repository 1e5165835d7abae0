import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Metrics } from "../metrics.js";
import type { ServerState } from "../state.js";
import { mutationFor, validateRequest, type CheckContext } from "./checks.js";
import { checkConfigMap, configMapResponse, isConfigMapRequest } from "./config-map.js";
import { clipWarning, decide, outcome } from "./decide.js";
import { parseAdmissionReview, reviewResponse, type AdmissionRequest, type AdmissionResponse } from "./review.js";
import { uncheckedResponse } from "./unchecked.js";

type Webhook = "validate" | "mutate";

// Metric labels take only these kinds, so a client sending made-up kinds cannot grow the label set.
const KNOWN_KINDS = new Set(["NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy", "Namespace", "ConfigMap", "Pod", "GuardrailException"]);

interface Decision {
  response: AdmissionResponse;
  decision: string;
  rules: string[];
}

function subjectOf(request: AdmissionRequest): string {
  const meta = (request.object as { metadata?: { name?: unknown; generateName?: unknown } } | null | undefined)?.metadata;
  const name = request.name || (typeof meta?.name === "string" && meta.name) || (typeof meta?.generateName === "string" && `${meta.generateName}*`) || "";
  const ref = [request.namespace, name].filter(Boolean).join("/");
  return ref ? `${request.kind.kind} ${ref}` : request.kind.kind;
}

/** netguard's own ConfigMap is judged without the config in force: a fix must get through while serve runs unchecked. */
function validateConfigMap(request: AdmissionRequest): Decision {
  const verdict = checkConfigMap(request);
  const response = configMapResponse(request.uid, request, verdict);
  return { response, decision: response.allowed ? (response.warnings ? "warned" : "allowed") : "denied", rules: response.allowed ? [] : ["invalid-config"] };
}

function validate(request: AdmissionRequest, ctx: CheckContext, metrics: Metrics, log: FastifyBaseLogger): Decision {
  const mode = ctx.loaded.config.mode;
  const result = validateRequest(request, ctx);
  for (const failure of result.ruleFailures) {
    metrics.ruleFailures.inc({ rule: failure.rule });
    log.error({ uid: request.uid, rule: failure.rule, error: failure.error }, "rule failed; its findings are missing from this decision");
  }
  for (const f of result.findings) {
    metrics.findings.inc({ rule: f.rule, action: f.action });
    if (f.waivedBy) metrics.waivedDenials.inc({ rule: f.rule });
  }
  const response = decide(request.uid, mode, subjectOf(request), result);
  return { response, decision: outcome(mode, response, result), rules: result.findings.map((f) => f.rule) };
}

const isPodCreate = (r: AdmissionRequest) => r.kind.group === "" && r.kind.kind === "Pod" && r.operation === "CREATE";

/** The pod guard's answer; a guard that fails or has no answer admits the pod. */
async function guardPod(request: AdmissionRequest, guard: NonNullable<ServerState["podGuard"]>, log: FastifyBaseLogger): Promise<Decision> {
  let verdict: Awaited<ReturnType<typeof guard>>;
  try {
    verdict = await guard(request.namespace);
  } catch (error) {
    log.warn({ uid: request.uid, err: error instanceof Error ? error.message : String(error) }, "pod guard failed; admitting the pod");
  }
  if (verdict && !verdict.allowed) {
    const message = `netguard denied this ${subjectOf(request)} (pod-guard): ${verdict.message ?? "the namespace is not protected yet; retry in a few seconds."}`;
    return { response: { uid: request.uid, allowed: false, status: { code: 403, reason: "Forbidden", message } }, decision: "denied", rules: ["pod-guard"] };
  }
  const response: AdmissionResponse = { uid: request.uid, allowed: true };
  if (verdict?.warning) response.warnings = [clipWarning(verdict.warning)];
  return { response, decision: verdict?.warning ? "audited" : "allowed", rules: verdict?.warning ? ["pod-guard"] : [] };
}

function mutate(request: AdmissionRequest, ctx: CheckContext): Decision {
  const patch = mutationFor(request, ctx);
  const response: AdmissionResponse = { uid: request.uid, allowed: true };
  if (patch.length === 0) return { response, decision: "allowed", rules: [] };
  response.patchType = "JSONPatch";
  response.patch = Buffer.from(JSON.stringify(patch)).toString("base64");
  return { response, decision: "patched", rules: [] };
}

/**
 * POST /validate and /mutate. Decisions are pure functions of the request, config and facts, so a dryRun
 * request gets the same answer and there is nothing to skip: netguard writes nothing while admitting.
 */
export function registerAdmissionRoutes(app: FastifyInstance, state: ServerState, metrics: Metrics): void {
  const handle = (webhook: Webhook) => async (req: FastifyRequest, reply: FastifyReply) => {
    const parsed = parseAdmissionReview(req.body);
    if (!parsed.ok) {
      metrics.rejectedRequests.inc({ status: "400" });
      return reply.code(400).send({ error: "Bad Request", reason: parsed.reason });
    }
    const loaded = state.config;
    const request = parsed.review.request;
    const decide = async (): Promise<Decision> => {
      if (webhook === "validate" && isConfigMapRequest(request)) return validateConfigMap(request);
      if (!loaded) return { response: uncheckedResponse(request.uid, state.configProblems), decision: "unchecked", rules: [] };
      const ctx: CheckContext = { loaded, facts: state.facts(), privilegedUsers: state.privilegedUsers, now: new Date() };
      if (webhook === "mutate") return mutate(request, ctx);
      return state.podGuard && isPodCreate(request) ? guardPod(request, state.podGuard, req.log) : validate(request, ctx, metrics, req.log);
    };
    const { response, decision, rules } = await decide();

    const seconds = reply.elapsedTime / 1000;
    const labels = { webhook, operation: request.operation, kind: KNOWN_KINDS.has(request.kind.kind) ? request.kind.kind : "other", decision };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, seconds);
    req.log.info(
      {
        uid: request.uid,
        webhook,
        operation: request.operation,
        kind: request.kind.kind,
        namespace: request.namespace,
        name: request.name,
        user: request.userInfo?.username,
        decision,
        rules,
        mode: loaded?.config.mode,
        dryRun: request.dryRun === true,
        latencyMs: Math.round(seconds * 1e6) / 1e3,
      },
      "admission decision",
    );
    return reviewResponse(response);
  };
  // The apiserver appends ?timeout=5s; routes match on the path only, so the query is ignored.
  app.post("/validate", handle("validate"));
  app.post("/mutate", handle("mutate"));
}
