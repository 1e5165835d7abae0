import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { baselineStatus, type LoadedConfig } from "../../policies/index.js";
import type * as k8s from "@kubernetes/client-node";

export interface ControllerMetrics {
  reconcileErrors: Counter;
  baselineWrites: Counter<"action">;
  baselineLatency: Histogram;
  auditDuration: Histogram;
  auditFindings: Gauge<"rule" | "action">;
  isLeader: Gauge;
}

/** Controller metrics; namespace protection counts are computed from the cache at scrape time. */
export function controllerMetrics(registry: Registry, namespaces: () => readonly k8s.V1Namespace[], config: () => LoadedConfig, missing: () => number): ControllerMetrics {
  new Gauge({
    name: "netguard_namespaces",
    help: "Namespaces by baseline status (protected, missing, exempt, opted-out, disabled)",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { protected: 0, missing: 0, exempt: 0, "opted-out": 0, disabled: 0 };
      const cfg = config().config;
      for (const ns of namespaces()) counts[baselineStatus(ns as never, cfg)]! += 1;
      const gap = missing();
      counts.protected = Math.max(0, counts.protected! - gap);
      counts.missing = gap;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  return {
    reconcileErrors: new Counter({ name: "netguard_reconcile_errors_total", help: "Baseline reconciles that failed and were retried", registers: [registry] }),
    baselineWrites: new Counter({ name: "netguard_baseline_writes_total", help: "Baseline policies created, repaired or deleted", labelNames: ["action"], registers: [registry] }),
    baselineLatency: new Histogram({
      name: "netguard_baseline_latency_seconds",
      help: "Time from seeing a namespace without its baseline to the baseline being written",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    auditDuration: new Histogram({ name: "netguard_audit_duration_seconds", help: "Duration of one audit scan", buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30], registers: [registry] }),
    auditFindings: new Gauge({ name: "netguard_audit_findings", help: "Findings of the last audit scan", labelNames: ["rule", "action"], registers: [registry] }),
    isLeader: new Gauge({ name: "netguard_leader", help: "1 when this replica leads (reconciles and audits)", registers: [registry] }),
  };
}
