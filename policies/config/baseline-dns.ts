import { buildBaselinePolicy } from "../baseline.js";
import { contradictoryKeys } from "../selectors.js";
import { validateNetworkPolicy } from "../validate/network-policy.js";
import type { ConfigProblem, GuardrailConfig } from "./types.js";

/** Where each part of `baseline.dns` lands in the baseline NetworkPolicy netguard builds from it. */
const PLACES: readonly (readonly [policyPath: string, configPath: string])[] = [
  ["spec.egress[0].to[0].", "baseline.dns."],
  ["spec.egress[0].ports", "baseline.dns.ports"],
];

const SELECTED = { namespaceSelector: "namespace", podSelector: "pod" } as const;

/**
 * `baseline.dns` becomes a peer and ports of every baseline, so it is checked the way the apiserver
 * checks a NetworkPolicy (the same validation `netguard check` runs), plus the contradictions that
 * would make it match nothing: a baseline the apiserver refuses fails in every namespace, and one
 * whose DNS peer matches nothing blocks DNS everywhere. Checked whatever `baseline.egress` says, so
 * switching it to dns-only later cannot fail. Call it only when the schema accepted all of `baseline.dns`.
 */
export function checkBaselineDns(config: GuardrailConfig): ConfigProblem[] {
  // baseline.name has checks of its own: only what baseline.dns contributes is judged here.
  const policy = buildBaselinePolicy("baseline-check", { ...config, baseline: { ...config.baseline, name: "baseline-check", egress: "dns-only" } });
  const problems: ConfigProblem[] = validateNetworkPolicy(policy).errors.map((e) => {
    const place = PLACES.find(([prefix]) => e.path.startsWith(prefix));
    if (!place) return { path: "baseline", message: `the baseline NetworkPolicy would be refused: ${e.path}: ${e.message}` };
    return { path: place[1] + e.path.slice(place[0].length), message: e.message };
  });
  for (const field of ["namespaceSelector", "podSelector"] as const) {
    const keys = contradictoryKeys(config.baseline.dns[field]);
    // An invalid selector (In without values) is already reported as such.
    if (keys.length === 0 || problems.some((p) => p.path.startsWith(`baseline.dns.${field}`))) continue;
    problems.push({
      path: `baseline.dns.${field}`,
      message: `the requirements on ${keys.map((k) => JSON.stringify(k)).join(", ")} contradict each other, so it matches no ${SELECTED[field]}: DNS would be blocked in every namespace with the baseline`,
    });
  }
  return problems;
}
