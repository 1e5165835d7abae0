import { cidrReason, parseCidr } from "../net/cidr.js";
import { AddressSet } from "../net/address-set.js";
import { fieldPath, type PathSegment } from "../path.js";
import { contradictoryKeys } from "../selectors.js";
import { labelValueErrors, qualifiedNameErrors } from "../validate/names.js";
import { labelSelectorErrors } from "../validate/network-policy.js";
import { catalog, isRuleId } from "./catalog.js";
import type { ClusterRanges, ConfigProblem, GuardrailConfig, RemoteCluster, RuleActions } from "./types.js";

const RANGE_FIELDS = ["podCIDRs", "serviceCIDRs", "nodeCIDRs"] as const;
/** Every CIDR list of a cluster, local or remote. */
const CIDR_FIELDS = [...RANGE_FIELDS, "natSourceCIDRs", "exposedCIDRs"] as const;

/**
 * True for the fields the schema accepted (and the fields inside them). A document that failed the
 * schema is only partly a GuardrailConfig: each check reads only fields this vouches for.
 */
export type Valid = (path: readonly PathSegment[]) => boolean;

export function isLabelKey(key: string): boolean {
  return qualifiedNameErrors(key).length === 0;
}

export function isLabelValue(value: string): boolean {
  return labelValueErrors(value).length === 0;
}

function checkCidrs(list: readonly string[], at: PathSegment[], valid: Valid): ConfigProblem[] {
  if (!valid(at)) return [];
  return list.flatMap((text, i) => (valid([...at, i]) && !parseCidr(text) ? [{ path: fieldPath([...at, i]), message: cidrReason(text) }] : []));
}

function checkRemote(remote: RemoteCluster, at: PathSegment[], valid: Valid): ConfigProblem[] {
  const problems = CIDR_FIELDS.flatMap((f) => checkCidrs(remote[f], [...at, f], valid));
  if (!valid([...at, "connectivity"])) return problems;
  if (remote.connectivity !== "nat") {
    for (const f of ["natSourceCIDRs", "exposedCIDRs"] as const) {
      if (valid([...at, f]) && remote[f].length > 0) {
        problems.push({ path: fieldPath([...at, f]), message: `only meaningful with connectivity: nat (this remote is ${remote.connectivity})` });
      }
    }
  } else if (valid([...at, "snatToNodes"]) && remote.snatToNodes) {
    problems.push({ path: fieldPath([...at, "snatToNodes"]), message: "only meaningful with connectivity: routed (nat already hides pod addresses)" });
  }
  return problems;
}

function checkCni(config: GuardrailConfig, valid: Valid): ConfigProblem[] {
  const { cni, policyScope } = config.cluster;
  if (!valid(["cluster", "cni"]) || !valid(["cluster", "policyScope"]) || cni === undefined) return [];
  if (policyScope !== "cilium-clustermesh" || cni === "cilium") return [];
  return [{ path: "cluster.cni", message: `policyScope cilium-clustermesh means this cluster runs Cilium; cni ${cni} contradicts it (use cilium or omit cni)` }];
}

function checkClusters(config: GuardrailConfig, valid: Valid): ConfigProblem[] {
  const problems = valid(["cluster"]) ? [...CIDR_FIELDS.flatMap((f) => checkCidrs(config.cluster[f], ["cluster", f], valid)), ...checkCni(config, valid)] : [];
  if (!valid(["remoteClusters"])) return problems;
  const names = new Set<string>(valid(["cluster", "name"]) && config.cluster.name !== undefined ? [config.cluster.name] : []);
  config.remoteClusters.forEach((remote, i) => {
    const at = ["remoteClusters", i];
    if (!valid(at)) return;
    problems.push(...checkRemote(remote, at, valid));
    if (!valid([...at, "name"])) return;
    if (names.has(remote.name)) {
      const clash = remote.name === config.cluster.name ? "the local cluster's name" : "another remote cluster's name";
      problems.push({ path: fieldPath([...at, "name"]), message: `"${remote.name}" is already ${clash}; names must be unique` });
    }
    names.add(remote.name);
  });
  return problems;
}

function checkLabels(config: GuardrailConfig, valid: Valid): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (valid(["clusterLabel"])) {
    if (!isLabelKey(config.clusterLabel)) {
      problems.push({ path: "clusterLabel", message: `"${config.clusterLabel}" is not a valid label key` });
    } else if (config.clusterLabel === "kubernetes.io/metadata.name") {
      problems.push({ path: "clusterLabel", message: "kubernetes.io/metadata.name is set by the apiserver to each namespace's own name; choose another key" });
    }
  }
  if (!valid(["baseline", "optOutLabel"])) return problems;
  const [optKey = "", optValue = ""] = config.baseline.optOutLabel.split("=");
  if (!isLabelKey(optKey) || !isLabelValue(optValue)) {
    problems.push({ path: "baseline.optOutLabel", message: `"${config.baseline.optOutLabel}" must be key=value with a valid label key and value` });
  } else if (valid(["clusterLabel"]) && optKey === config.clusterLabel) {
    problems.push({ path: "baseline.optOutLabel", message: "must not use the clusterLabel key" });
  }
  return problems;
}

function checkRuleActions(actions: RuleActions, at: readonly PathSegment[], valid: Valid): ConfigProblem[] {
  if (!valid(at)) return [];
  return Object.entries(actions).flatMap(([id, action]) => {
    const rule = isRuleId(id) ? catalog[id] : undefined;
    if (!rule || !valid([...at, id]) || action !== "deny" || rule.certainty === "provable") return [];
    return [{ path: fieldPath([...at, id]), message: `deny is only allowed for provable rules; ${id} is likely (a warning at most): use warn or off` }];
  });
}

/** Each override's selector is checked as the apiserver checks a NetworkPolicy's, and its actions as `rules` is. */
function checkRuleOverrides(config: GuardrailConfig, valid: Valid): ConfigProblem[] {
  if (!valid(["ruleOverrides"])) return [];
  return config.ruleOverrides.flatMap((override, i) => {
    const at = ["ruleOverrides", i];
    if (!valid(at)) return [];
    const selector = valid([...at, "namespaceSelector"]) ? labelSelectorErrors(override.namespaceSelector, [...at, "namespaceSelector"]) : [];
    // An invalid selector (In without values) is reported as such, not also as a contradiction.
    if (valid([...at, "namespaceSelector"]) && selector.length === 0 && contradictoryKeys(override.namespaceSelector).length > 0) {
      selector.push({ path: fieldPath([...at, "namespaceSelector"]), message: "its requirements contradict each other, so it matches no namespace and the override never applies" });
    }
    return [...selector, ...checkRuleActions(override.rules, [...at, "rules"], valid)];
  });
}

/** Checks the schema cannot express; the config is refused when any fails. */
export function crossCheck(config: GuardrailConfig, valid: Valid): ConfigProblem[] {
  return [...checkClusters(config, valid), ...checkLabels(config, valid), ...checkRuleActions(config.rules, ["rules"], valid), ...checkRuleOverrides(config, valid)];
}

function rangesOf(c: ClusterRanges): AddressSet {
  return AddressSet.of(
    RANGE_FIELDS.flatMap((f) => c[f])
      .map(parseCidr)
      .filter((x) => x !== undefined),
  );
}

/** Facts about an accepted config worth telling the platform team. */
export function configNotes(config: GuardrailConfig): ConfigProblem[] {
  const local = rangesOf(config.cluster);
  return config.remoteClusters.flatMap((remote, i) => {
    const overlap = rangesOf(remote).intersect(local);
    if (overlap.isEmpty()) return [];
    return [
      {
        path: fieldPath(["remoteClusters", i]),
        message: `ranges of ${remote.name} overlap local ranges (${overlap.toCidrs().join(", ")}); ipBlocks there match local traffic (rule ambiguous-remote-cidr)`,
      },
    ];
  });
}
