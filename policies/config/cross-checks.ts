import { cidrReason, parseCidr } from "../net/cidr.js";
import { AddressSet } from "../net/address-set.js";
import { fieldPath } from "../path.js";
import { ruleById } from "../rules/registry.js";
import type { RuleId } from "../types.js";
import type { ClusterRanges, ConfigProblem, GuardrailConfig } from "./types.js";

const RANGE_FIELDS = ["podCIDRs", "serviceCIDRs", "nodeCIDRs"] as const;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function checkCidrs(list: readonly string[], at: (string | number)[], problems: ConfigProblem[]): void {
  list.forEach((text, i) => {
    if (!parseCidr(text)) problems.push({ path: fieldPath([...at, i]), message: cidrReason(text) });
  });
}

function rangesOf(c: ClusterRanges): AddressSet {
  return AddressSet.of(
    RANGE_FIELDS.flatMap((f) => c[f])
      .map(parseCidr)
      .filter((x) => x !== undefined),
  );
}

export function isLabelKey(key: string): boolean {
  return key.length <= 316 && LABEL_KEY.test(key);
}

/**
 * Checks the schema cannot express. Returns errors (the config is refused) and
 * notes (accepted, but worth telling the platform team).
 */
export function crossCheck(config: GuardrailConfig): { errors: ConfigProblem[]; notes: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const notes: ConfigProblem[] = [];
  for (const f of RANGE_FIELDS) checkCidrs(config.cluster[f], ["cluster", f], errors);

  const names = new Set<string>([config.cluster.name]);
  config.remoteClusters.forEach((remote, i) => {
    const at = ["remoteClusters", i];
    for (const f of [...RANGE_FIELDS, "natSourceCIDRs", "exposedCIDRs"] as const) checkCidrs(remote[f], [...at, f], errors);
    if (names.has(remote.name)) {
      const clash = remote.name === config.cluster.name ? "the local cluster's name" : "another remote cluster's name";
      errors.push({ path: fieldPath([...at, "name"]), message: `"${remote.name}" is already ${clash}; names must be unique` });
    }
    names.add(remote.name);
    if (remote.connectivity !== "nat") {
      for (const f of ["natSourceCIDRs", "exposedCIDRs"] as const) {
        if (remote[f].length > 0) {
          errors.push({ path: fieldPath([...at, f]), message: `only meaningful with connectivity: nat (this remote is ${remote.connectivity})` });
        }
      }
    } else if (remote.snatToNodes) {
      errors.push({ path: fieldPath([...at, "snatToNodes"]), message: "only meaningful with connectivity: routed (nat already hides pod addresses)" });
    }
    const overlap = rangesOf(remote).intersect(rangesOf(config.cluster));
    if (!overlap.isEmpty()) {
      notes.push({
        path: fieldPath(at),
        message: `ranges of ${remote.name} overlap local ranges (${overlap.toCidrs().join(", ")}); ipBlocks there match local traffic (rule ambiguous-remote-cidr)`,
      });
    }
  });

  if (!isLabelKey(config.clusterLabel)) {
    errors.push({ path: "clusterLabel", message: `"${config.clusterLabel}" is not a valid label key` });
  } else if (config.clusterLabel === "kubernetes.io/metadata.name") {
    errors.push({ path: "clusterLabel", message: "kubernetes.io/metadata.name is set by the apiserver to each namespace's own name; choose another key" });
  }
  const [optKey = "", optValue = ""] = config.baseline.optOutLabel.split("=");
  if (!isLabelKey(optKey) || !LABEL_VALUE.test(optValue)) {
    errors.push({ path: "baseline.optOutLabel", message: `"${config.baseline.optOutLabel}" must be key=value with a valid label key and value` });
  } else if (optKey === config.clusterLabel) {
    errors.push({ path: "baseline.optOutLabel", message: "must not use the clusterLabel key" });
  }

  for (const [id, action] of Object.entries(config.rules)) {
    const rule = ruleById(id as RuleId);
    if (rule && action === "deny" && rule.certainty !== "provable") {
      errors.push({
        path: fieldPath(["rules", id]),
        message: `deny is only allowed for provable rules; ${id} is likely (a warning at most): use warn or off`,
      });
    }
  }
  return { errors, notes };
}
