/**
 * Which action a rule has for an object: per rule, the first `ruleOverrides` entry whose namespaceSelector matches
 * the object's namespace and that names the rule, then the cluster-wide `rules`, then the rule's default.
 */
import type { RuleInfo } from "./config/catalog.js";
import type { GuardrailConfig } from "./config/types.js";
import { fieldPath } from "./path.js";
import { isEmptySelector, matchesLabels } from "./selectors.js";
import type { RuleAction } from "./types.js";

export interface ResolvedAction {
  action: RuleAction;
  /** Where it came from: ruleOverrides[1], rules, or default. */
  from: string;
  /**
   * Set when the namespace's labels are unknown and the entries that could apply disagree: the action is then warn,
   * and this says why it is not deny.
   */
  unsure?: string;
}

/** `labels` undefined: the namespace's labels are unknown (offline without its Namespace object, or a cache not synced). */
export function resolveRuleAction(info: RuleInfo, config: GuardrailConfig, namespace: string | undefined, labels: Readonly<Record<string, string>> | undefined): ResolvedAction {
  const fallback: ResolvedAction =
    config.rules[info.id] !== undefined ? { action: config.rules[info.id]!, from: "rules" } : { action: info.defaultAction, from: "default" };
  // With the labels unknown, every entry naming the rule might apply, up to the first that applies whatever they are.
  const possible: ResolvedAction[] = [];
  let settled = false;
  for (const [i, override] of config.ruleOverrides.entries()) {
    const action = override.rules[info.id];
    if (action === undefined) continue;
    const entry = { action, from: fieldPath(["ruleOverrides", i]) };
    if (labels ? matchesLabels(override.namespaceSelector, labels) : isEmptySelector(override.namespaceSelector)) {
      if (possible.length === 0) return entry;
      possible.push(entry);
      settled = true;
      break;
    }
    if (!labels) possible.push(entry);
  }
  if (possible.length === 0) return fallback;
  if (!settled) possible.push(fallback);
  if (possible.every((p) => p.action === possible[0]!.action)) return possible[0]!;
  if (possible.every((p) => p.action !== "deny")) return { action: "warn", from: possible[0]!.from };
  const others = possible.filter((p) => p.action !== "deny").map((p) => `${p.from} (${p.action})`);
  return {
    action: "warn",
    from: possible[0]!.from,
    unsure: `the labels of namespace ${namespace ?? "(none)"} are not known, so whether ${others.join(" or ")} applies instead of deny cannot be told`,
  };
}
