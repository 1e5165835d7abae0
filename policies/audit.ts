import { baselineDrifted, baselineStatus, buildBaselinePolicy, isManagedPolicy } from "./baseline.js";
import type { GuardrailConfig } from "./config/types.js";
import { fieldPath } from "./path.js";
import type { Finding, Namespace, NetworkPolicy } from "./types.js";

/** Audit-only findings on a Namespace: what the controller and the webhooks should have ensured. */
export type NamespaceAuditId = "missing-baseline" | "missing-cluster-label";

/**
 * Findings for one existing namespace given the NetworkPolicies in it: its baseline missing or
 * drifted, or its cluster label missing (so selector reasoning would not hold for it).
 */
export function auditNamespace(ns: Namespace, policiesInNamespace: readonly NetworkPolicy[], config: GuardrailConfig): Finding[] {
  const findings: Finding[] = [];
  const name = ns.metadata.name ?? "";
  const labels = ns.metadata.labels ?? {};
  if (labels[config.clusterLabel] === undefined) {
    findings.push({
      rule: "missing-cluster-label",
      action: "warn",
      certainty: "provable",
      path: fieldPath(["metadata", "labels", config.clusterLabel]),
      message: `namespace ${name} has no ${config.clusterLabel} label; netguard stamps it on create and update, so it predates netguard or the webhook was bypassed.`,
      fix: `Run kubectl label namespace ${name} ${config.clusterLabel}=${config.cluster.name ?? "<cluster.name>"} (netguard's controller backfills it in enforce mode).`,
    });
  }
  if (baselineStatus(ns, config) !== "protected") return findings;
  const desired = buildBaselinePolicy(name, config);
  const current = policiesInNamespace.find((p) => p.metadata.name === desired.metadata.name);
  const taken = current !== undefined && !isManagedPolicy(current);
  if (!current || taken || baselineDrifted(current, desired)) {
    findings.push({
      rule: "missing-baseline",
      action: "deny",
      certainty: "provable",
      path: "metadata",
      message: !current
        ? `namespace ${name} has no baseline NetworkPolicy (${desired.metadata.name}): its pods accept ingress from anywhere.`
        : isManagedPolicy(current)
          ? `the baseline NetworkPolicy ${desired.metadata.name} in ${name} differs from the configured baseline, so the namespace is not isolated as intended.`
          : `the NetworkPolicy ${desired.metadata.name} in ${name} has the baseline's name but netguard did not make it, so netguard leaves it alone and the namespace has no baseline.`,
      fix: taken
        ? `Rename or delete ${desired.metadata.name} in ${name}; netguard's controller then creates the baseline.`
        : config.mode === "audit"
          ? "Switch netguard to mode: enforce to have the controller create it, or apply it yourself."
          : "Check the controller's logs and netguard_reconcile_errors_total: netguard's controller creates it in enforce mode.",
    });
  }
  return findings;
}
