import type { LoadedConfig } from "./config/load.js";
import { buildContext } from "./context.js";
import { rules as allRules } from "./rules/registry.js";
import type { Rule, RuleHit } from "./rules/rule.js";
import { applyExceptions } from "./exceptions/waive.js";
import { premisesMet } from "./premises.js";
import { resolveRuleAction } from "./rule-actions.js";
import type { ClusterFacts, Finding, FindingAction, InputError, PremiseReport } from "./types.js";
import { readPolicy } from "./model/read.js";
import type { RuleView } from "./model/policy.js";
import type { ValidateOptions } from "./validate/network-policy.js";

export interface PolicyEvaluation {
  findings: Finding[];
  /** Problems the apiserver itself would reject; when present no rule ran. */
  inputErrors: InputError[];
  /** Rules that threw: reported, never fatal, and the other rules' findings are kept. */
  ruleFailures: { rule: string; error: string }[];
}

export interface ActiveRule {
  rule: Rule;
  action: FindingAction;
  /** Why a deny became warn: the namespace's labels are unknown and a ruleOverrides entry might apply. */
  unsure?: string;
}

/**
 * The rules that apply to an object in `namespace` under this config, with their actions (ruleOverrides by the
 * namespace's labels, then rules, then defaults). `labels` undefined: unknown, so an override that might apply counts.
 */
export function activeRules(
  loaded: LoadedConfig,
  candidates: readonly Rule[] = allRules,
  namespace?: string,
  labels?: Readonly<Record<string, string>>,
): ActiveRule[] {
  const localOnly = loaded.config.cluster.policyScope === "local-only";
  return candidates.flatMap((rule): ActiveRule[] => {
    const { action, unsure } = resolveRuleAction(rule, loaded.config, namespace, labels);
    if (action === "off" || (rule.remoteSelectorRule && !localOnly)) return [];
    return [{ rule, action, ...(unsure ? { unsure } : {}) }];
  });
}

/** Orders field paths as the document does: spec.ingress[2] before spec.ingress[10]. */
function comparePaths(a: string, b: string): number {
  const xs = a.split(/(\d+)/);
  const ys = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const [x, y] = [xs[i]!, ys[i]!];
    // split with a capture group alternates text (even i) and digit runs (odd i).
    const diff = i % 2 === 1 ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (diff !== 0) return diff;
  }
  return xs.length - ys.length;
}

/** Attaches a provable finding's premises; one that is not met turns a deny into a warning that says why. */
function withPremises(finding: Finding, premises: readonly PremiseReport[]): Finding {
  const unmet = premises.filter((p) => p.status === "unknown" || p.status === "fails");
  const reported = { ...finding, premises: [...premises] };
  if (unmet.length === 0 || finding.action !== "deny") return reported;
  const why = unmet.map((p) => `premise ${p.id} ${p.status === "fails" ? "fails" : "is unknown"}${p.detail ? ` (${p.detail})` : ""}`).join("; ");
  return { ...reported, action: "warn", message: `${finding.message} Warned, not denied: ${why}.` };
}

/** What a dead element means in its rule: an Allow drops what it meant to allow, a Deny lets through what it meant to block. */
function consequence(rule: RuleView, whole: boolean): string {
  if (rule.action === "deny") {
    return whole
      ? `No peer of ${rule.path} can match, so that Deny rule blocks nothing: the traffic it meant to block is let through.`
      : "It is in a Deny rule: the traffic it meant to block there is let through, not dropped.";
  }
  if (rule.action === "pass") {
    return whole ? `No peer of ${rule.path} can match, so that Pass rule hands nothing to the next tier.` : "It is in a Pass rule: that traffic is not handed to the next tier.";
  }
  return whole
    ? `No peer of ${rule.path} can match, so that rule allows nothing: the selected pods stay isolated and the traffic it meant to allow will be dropped.`
    : "It is in an Allow rule: the traffic it meant to allow there is dropped.";
}

const within = (path: string, parent: string): boolean => path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);

/**
 * Evaluates one object claimed to be a NetworkPolicy, a Cilium or a Calico policy, validated as the apiserver
 * validates it on CREATE or, with `validation`, on UPDATE. Pure: same input, same findings, whoever calls.
 */
export function evaluatePolicy(
  object: unknown,
  loaded: LoadedConfig,
  facts: ClusterFacts = {},
  candidates: readonly Rule[] = allRules,
  validation: ValidateOptions = {},
): PolicyEvaluation {
  const { model, errors } = readPolicy(object, loaded.config.clusterLabel, validation);
  if (!model) return { findings: [], inputErrors: errors, ruleFailures: [] };
  const ctx = buildContext(model, loaded, facts);
  const ruleFailures: PolicyEvaluation["ruleFailures"] = [];
  const hits: { rule: Rule; action: FindingAction; unsure?: string; hit: RuleHit }[] = [];
  const { namespace, name } = model;
  const labels = namespace === undefined ? undefined : facts.namespaceLabels?.get(namespace);
  for (const { rule, action, unsure } of activeRules(loaded, candidates, namespace, labels)) {
    try {
      for (const hit of rule.check(ctx)) hits.push({ rule, action, unsure, hit });
    } catch (error) {
      ruleFailures.push({ rule: rule.id, error: error instanceof Error ? error.message : String(error) });
    }
  }

  // A rule whose every peer is provably dead allows nothing: say so plainly.
  const proven = (h: (typeof hits)[number]) => h.rule.certainty === "provable" && premisesMet(h.hit.premises ?? []);
  const deadPeers = new Set(hits.filter((h) => proven(h) && h.hit.peerPath).map((h) => h.hit.peerPath));
  const deadRules = new Set(ctx.rules.filter((r) => r.peers.length > 0 && r.peers.every((p) => deadPeers.has(p.path))).map((r) => r.path));

  const order = new Map(allRules.map((r, i) => [r.id, i]));
  const seen = new Set<string>();
  const findings = hits
    .filter(({ rule, hit }) => !seen.has(`${rule.id}\n${hit.path}`) && seen.add(`${rule.id}\n${hit.path}`))
    .map(({ rule, action, unsure, hit }): Finding => {
      const owner = ctx.rules.find((r) => within(hit.path, r.path));
      const whole = hit.peerPath !== undefined && owner !== undefined && deadRules.has(owner.path) && rule.certainty === "provable";
      // A NetworkPolicy allows only, so its findings keep to the one thing they can mean.
      const says = owner && rule.certainty === "provable" && (whole || model.kind !== "NetworkPolicy" || owner.action !== "allow") ? consequence(owner, whole) : undefined;
      const dead = says ? `${hit.message} ${says}` : hit.message;
      const message = unsure ? `${dead} Warned, not denied: ${unsure}.` : dead;
      const finding: Finding = { rule: rule.id, action, certainty: rule.certainty, path: hit.path, message, fix: hit.fix };
      return rule.certainty === "provable" ? withPremises(finding, hit.premises ?? []) : finding;
    })
    .sort((a, b) => comparePaths(a.path, b.path) || (order.get(a.rule as never) ?? 0) - (order.get(b.rule as never) ?? 0));
  const place = { namespace, name, labels };
  return { findings: facts.exceptions ? applyExceptions(findings, place, facts.exceptions) : findings, inputErrors: [], ruleFailures };
}
