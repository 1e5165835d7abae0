import {
  checkExceptionWrite,
  checkManagedPolicyChange,
  checkManagedPolicyClaim,
  checkNamespace,
  clusterLabelPatch,
  evaluatePolicy,
  evaluatePolicyUpdate,
  type ClusterFacts,
  type JsonPatchOp,
  type LoadedConfig,
} from "../../policies/index.js";
import type { Verdict } from "./decide.js";
import type { AdmissionRequest } from "./review.js";

export interface CheckContext {
  loaded: LoadedConfig;
  facts: ClusterFacts;
  privilegedUsers: readonly string[];
  /** The time exceptions are judged at (their expiresAt on writes). */
  now: Date;
}

export interface ValidateResult extends Verdict {
  ruleFailures: { rule: string; error: string }[];
}

type Labelled = { metadata?: { labels?: Record<string, string> } };

/** A JSON object (not null, not an array): what a well-formed Kubernetes object and its metadata are. */
export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** An object whose metadata and labels have the shape the guardrails read; anything else the apiserver rejects itself. */
function labelled(value: unknown): Labelled | undefined {
  if (!isObject(value)) return undefined;
  const { metadata } = value;
  if (metadata === undefined) return value;
  if (!isObject(metadata) || (metadata.labels !== undefined && !isObject(metadata.labels))) return undefined;
  return value as Labelled;
}

const isNetworkPolicy = (r: AdmissionRequest) => r.kind.group === "networking.k8s.io" && r.kind.kind === "NetworkPolicy";
/** Cilium's kinds (CRDs of the kube-apiserver) and Calico's projectcalico.org/v3 kinds (sent by the Calico API server). */
const CNI_POLICY_KINDS: Readonly<Record<string, readonly string[]>> = {
  "cilium.io": ["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"],
  "projectcalico.org": ["NetworkPolicy", "GlobalNetworkPolicy"],
};
const isCniPolicy = (r: AdmissionRequest) => CNI_POLICY_KINDS[r.kind.group]?.includes(r.kind.kind) === true;
const isNamespace = (r: AdmissionRequest) => r.kind.group === "" && r.kind.kind === "Namespace";
const isException = (r: AdmissionRequest) => r.kind.group === "netguard.dev" && r.kind.kind === "GuardrailException";

function inputErrorNotice(kind: string, errors: readonly { path: string; message: string }[]): string {
  const [first] = errors;
  const more = errors.length > 1 ? ` (+${errors.length - 1} more)` : "";
  return `netguard could not evaluate this ${kind}, it is invalid: ${first?.path}: ${first?.message}${more}`;
}

/** Everything /validate checks for one request: the rules on NetworkPolicies and Cilium and Calico policies, managed-policy protection, Namespace and exception guardrails. */
export function validateRequest(request: AdmissionRequest, ctx: CheckContext): ValidateResult {
  const { config } = ctx.loaded;
  const result: ValidateResult = { findings: [], notices: [], ruleFailures: [] };
  const { operation, userInfo } = request;
  if (isNetworkPolicy(request) && (operation === "UPDATE" || operation === "DELETE")) {
    result.findings.push(
      ...checkManagedPolicyChange(operation, labelled(request.oldObject), userInfo, config, ctx.privilegedUsers, { object: labelled(request.object), facts: ctx.facts }),
    );
  }
  if (isNetworkPolicy(request) && (operation === "CREATE" || operation === "UPDATE")) {
    result.findings.push(...checkManagedPolicyClaim(operation, labelled(request.object), labelled(request.oldObject), userInfo, config, ctx.privilegedUsers));
  }
  if ((isNetworkPolicy(request) || isCniPolicy(request)) && (operation === "CREATE" || operation === "UPDATE")) {
    // An UPDATE is denied only for what it introduces (policies/ratchet.ts); DELETE is never judged by rules.
    const evaluation =
      operation === "UPDATE" ? evaluatePolicyUpdate(request.object, request.oldObject, ctx.loaded, ctx.facts) : evaluatePolicy(request.object, ctx.loaded, ctx.facts);
    result.findings.push(...evaluation.findings);
    result.ruleFailures = evaluation.ruleFailures;
    if (evaluation.inputErrors.length > 0) result.notices.push(inputErrorNotice(request.kind.kind, evaluation.inputErrors));
    for (const failure of evaluation.ruleFailures) result.notices.push(`netguard rule ${failure.rule} failed internally and was skipped`);
  }
  if (isException(request)) {
    result.findings.push(...checkExceptionWrite(operation, request.object, request.oldObject, userInfo, config, ctx.privilegedUsers, ctx.now));
  } else if (isNamespace(request) && (operation === "CREATE" || operation === "UPDATE")) {
    const ns = labelled(request.object);
    if (ns) result.findings.push(...checkNamespace(ns, labelled(request.oldObject), userInfo, config, ctx.privilegedUsers));
    else result.notices.push(inputErrorNotice("Namespace", [{ path: "metadata", message: "metadata and metadata.labels must be objects" }]));
  }
  return result;
}

/** The JSONPatch /mutate returns: the cluster label on Namespace CREATE and UPDATE, nothing otherwise. */
export function mutationFor(request: AdmissionRequest, ctx: CheckContext): JsonPatchOp[] {
  if (!isNamespace(request) || (request.operation !== "CREATE" && request.operation !== "UPDATE")) return [];
  const ns = labelled(request.object);
  return ns ? clusterLabelPatch(ns, ctx.loaded.config) : [];
}
