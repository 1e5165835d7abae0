import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { baselineStatus, type BaselineStatus, type LoadedConfig } from "../../policies/index.js";
import type * as k8s from "@kubernetes/client-node";

export interface ControllerMetrics {
  reconcileErrors: Counter;
  baselineWrites: Counter<"action">;
  baselineLatency: Histogram;
  auditDuration: Histogram;
  auditFindings: Gauge<"rule" | "action">;
  auditWriteErrors: Counter;
  auditLastRun: Gauge;
  watchRestarts: Counter<"resource">;
  watchLists: Counter<"resource">;
  podGuardDecisions: Counter<"decision">;
  isLeader: Gauge;
  baselineNameTaken: Gauge;
  topologyDiscoverySeconds: Histogram;
  topologyPublishErrors: Counter;
  descriptorImportFailures: Counter<"remote">;
}

/** The topology as this replica knows it, for the gauges. */
export interface TopologyCounts {
  /** Live ranges by kind and source; undefined before the descriptor is read. */
  ranges: readonly { kind: string; source: string }[] | undefined;
  /** Drift and import findings by config field. */
  drift: readonly { path: string }[];
  /** Seconds since each imported remote's descriptor was last read (undefined: never). */
  descriptorAges: readonly (readonly [string, number | undefined])[];
}

export interface NamespaceCounts {
  /** Every namespace the replica knows, with its configured status. */
  namespaces: () => readonly k8s.V1Namespace[];
  config: () => LoadedConfig;
  /**
   * On the leader: whether a protected namespace's baseline is in place (from the NetworkPolicy
   * cache). Undefined on followers, which do not watch NetworkPolicies and so report no gauge.
   */
  baselineInPlace: () => ((namespace: string) => boolean) | undefined;
  /** Whether cluster.cni contradicts the CNI the cluster's CRDs reveal. */
  cniMismatch: () => boolean;
  /** GuardrailExceptions by state, from this replica's cache. */
  exceptions: () => { active: number; expired: number; expiringSoon: number };
  topology: () => TopologyCounts;
}

/**
 * Controller metrics. Namespace counts are computed from the caches at scrape time, on the leader
 * only: `protected` counts namespaces whose baseline is in place, `missing` those that should have
 * one and do not (in audit mode, every one netguard would create).
 */
export function controllerMetrics(registry: Registry, counts: NamespaceCounts): ControllerMetrics {
  new Gauge({
    name: "netguard_namespaces",
    help: "Namespaces by baseline status (protected, missing, exempt, opted-out, disabled); reported by the leader",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      this.reset();
      const inPlace = counts.baselineInPlace();
      if (!inPlace) return;
      const result: Record<BaselineStatus | "missing", number> = { protected: 0, missing: 0, exempt: 0, "opted-out": 0, disabled: 0 };
      const cfg = counts.config().config;
      for (const ns of counts.namespaces()) {
        const status = baselineStatus(ns as never, cfg);
        if (status === "protected" && !inPlace(ns.metadata?.name ?? "")) result.missing += 1;
        else result[status] += 1;
      }
      for (const [status, n] of Object.entries(result)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: "netguard_cni_mismatch",
    help: "1 when cluster.cni names a CNI other than the one the cluster's CRDs reveal (cilium.io, crd.projectcalico.org)",
    registers: [registry],
    collect() {
      this.set(counts.cniMismatch() ? 1 : 0);
    },
  });
  new Gauge({
    name: "netguard_exceptions",
    help: "GuardrailExceptions by state: active (in force) or expired (waives nothing)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const { active, expired } = counts.exceptions();
      this.set({ state: "active" }, active);
      this.set({ state: "expired" }, expired);
    },
  });
  new Gauge({
    name: "netguard_exceptions_expiring_soon",
    help: "GuardrailExceptions in force that expire within 7 days",
    registers: [registry],
    collect() {
      this.set(counts.exceptions().expiringSoon);
    },
  });
  new Gauge({
    name: "netguard_topology_drift",
    help: "Topology drift: live ranges the config does not declare, declared ranges no authoritative source holds, conflicts with imported descriptors; by config field",
    labelNames: ["field"],
    registers: [registry],
    collect() {
      this.reset();
      const byField = new Map<string, number>();
      for (const { path } of counts.topology().drift) {
        const field = path.replace(/\[\d+\]$/, "");
        byField.set(field, (byField.get(field) ?? 0) + 1);
      }
      for (const [field, n] of byField) this.set({ field }, n);
    },
  });
  new Gauge({
    name: "netguard_topology_ranges",
    help: "Ranges discovered from the cluster's API (merged per source), by kind and source",
    labelNames: ["kind", "source"],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of counts.topology().ranges ?? []) this.inc({ kind: r.kind, source: r.source });
    },
  });
  new Gauge({
    name: "netguard_descriptor_age_seconds",
    help: "Seconds since each remote's descriptor was last read (remoteClusters[].descriptorFrom); absent until the first read",
    labelNames: ["remote"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [remote, age] of counts.topology().descriptorAges) if (age !== undefined) this.set({ remote }, age);
    },
  });
  return {
    topologyDiscoverySeconds: new Histogram({
      name: "netguard_topology_discovery_seconds",
      help: "Time to compute this cluster's descriptor from the caches (the leader, after a change)",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    topologyPublishErrors: new Counter({ name: "netguard_topology_publish_errors_total", help: "Failed writes of the cluster descriptor ConfigMap", registers: [registry] }),
    descriptorImportFailures: new Counter({ name: "netguard_descriptor_import_failures_total", help: "Failed reads of a remote's descriptor", labelNames: ["remote"], registers: [registry] }),
    reconcileErrors: new Counter({ name: "netguard_reconcile_errors_total", help: "Baseline reconciles that failed and were retried with backoff", registers: [registry] }),
    baselineWrites: new Counter({ name: "netguard_baseline_writes_total", help: "Baseline policies created, repaired or deleted, and cluster labels backfilled", labelNames: ["action"], registers: [registry] }),
    baselineLatency: new Histogram({
      name: "netguard_baseline_latency_seconds",
      help: "Time from the controller seeing a new namespace to its baseline being written",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    auditDuration: new Histogram({ name: "netguard_audit_duration_seconds", help: "Duration of one audit scan, writing the reports included", buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30], registers: [registry] }),
    auditFindings: new Gauge({ name: "netguard_audit_findings", help: "Findings of the last audit scan, by rule", labelNames: ["rule", "action"], registers: [registry] }),
    auditWriteErrors: new Counter({ name: "netguard_audit_report_errors_total", help: "PolicyReport writes that failed", registers: [registry] }),
    auditLastRun: new Gauge({ name: "netguard_audit_last_run_timestamp_seconds", help: "When the last audit scan finished (Unix time)", registers: [registry] }),
    watchRestarts: new Counter({ name: "netguard_watch_restarts_total", help: "List+watch restarts after an error (apiserver unreachable, watch failed)", labelNames: ["resource"], registers: [registry] }),
    watchLists: new Counter({
      name: "netguard_watch_lists_total",
      help: "Full lists of a watched resource: the first, after a restart, and after 410 Gone on a re-watch",
      labelNames: ["resource"],
      registers: [registry],
    }),
    podGuardDecisions: new Counter({
      name: "netguard_pod_guard_decisions_total",
      help: "Pod guard answers (serve --pod-guard): protected, denied, audited, not-applicable, lookup-failed, not-synced, name-taken",
      labelNames: ["decision"],
      registers: [registry],
    }),
    isLeader: new Gauge({ name: "netguard_leader", help: "1 when this replica leads (reconciles and audits)", registers: [registry] }),
    baselineNameTaken: new Gauge({
      name: "netguard_baseline_name_taken",
      help: "Protected namespaces whose baseline name is taken by a NetworkPolicy netguard did not make (left alone, so not isolated by netguard)",
      registers: [registry],
    }),
  };
}
