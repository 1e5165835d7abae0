import type * as k8s from "@kubernetes/client-node";
import type { ClusterFacts, ObjectRef } from "../../policies/index.js";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../policies/index.js";
import { buildPolicyReports, REPORT_GROUP, REPORT_NAME, REPORT_VERSION, sameResults, type PolicyReport } from "../audit/policy-reports.js";
import { refOf, type CheckReport } from "../audit/report.js";
import { auditSnapshotAsync } from "../audit/scan.js";
import { apiErrorMessage, apiStatus } from "../../kube/client.js";
import type { ControllerContext } from "./context.js";

export interface AuditLoopDeps extends ControllerContext {
  custom: k8s.CustomObjectsApi;
  /** GuardrailExceptions as stored; undefined until their cache has synced (or without their CRD). */
  exceptions?: () => readonly unknown[] | undefined;
  /** The Cilium and Calico policies the cluster serves, listed at each scan (their changes wait for the next one). */
  cniPolicies?: () => Promise<readonly unknown[]>;
  /** This cluster's live topology and the peers' descriptors, as every replica reads them. */
  topology?: () => Pick<ClusterFacts, "liveTopology" | "peers">;
  intervalMs: number;
  /** After a change in the cluster, the next scan runs at most this long afterwards (default min(interval, 10 s)). */
  changeDelayMs?: number;
  /** PolicyReport writes in flight at once (default 8). */
  writeConcurrency?: number;
  /** After a scan whose report writes failed, the next runs this long afterwards, doubling up to the interval (default 5 s). */
  retryDelayMs?: number;
}

/** Runs the tasks with at most `limit` in flight; each task handles its own errors. */
async function inParallel(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

const base = { group: REPORT_GROUP, version: REPORT_VERSION };
const keyOf = (ref: ObjectRef): string => [ref.apiVersion, ref.kind, ref.namespace, ref.name].filter((p) => p !== undefined).join("/");
const SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** What one write of the reports did. */
interface WriteStats {
  created: number;
  updated: number;
  deleted: number;
  failed: number;
}

/**
 * Audits the cached cluster state at start, periodically, and soon after a change, and mirrors the
 * findings into PolicyReports (one per namespace with findings) and one ClusterPolicyReport
 * (Namespace findings). Reports of namespaces without findings are deleted: reports show the
 * current state. Scans never overlap; a trigger during a scan joins it.
 */
export class AuditLoop {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  private running: Promise<CheckReport | undefined> | undefined;
  /** The scan asked for while one was running. */
  private queued: Promise<CheckReport | undefined> | undefined;
  private changedDuringScan = false;
  private stopped = false;
  private warnedNoCrd = false;
  /** Consecutive scans whose report writes failed (a CRD just installed, a quota, an apiserver restart). */
  private failedWrites = 0;

  constructor(private readonly deps: AuditLoopDeps) {}

  start(): void {
    void this.trigger();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private get changeDelayMs(): number {
    return this.deps.changeDelayMs ?? Math.min(this.deps.intervalMs, 10_000);
  }

  /** Something changed: make sure a scan runs within changeDelayMs (coalesces bursts of changes). */
  changed(): void {
    if (this.stopped) return;
    // During a scan the change may have come too late for it: the next one follows soon after.
    if (this.running) this.changedDuringScan = true;
    else if (Date.now() + this.changeDelayMs < this.dueAt) this.schedule(this.changeDelayMs);
  }

  /**
   * Runs a scan now and reschedules the next. Scans never overlap: during a scan this returns the
   * scan that starts right after it (a config change must not be answered by a scan of the old config).
   */
  trigger(): Promise<CheckReport | undefined> {
    if (this.running) {
      const next = (): Promise<CheckReport | undefined> | undefined => {
        this.queued = undefined;
        return this.stopped ? undefined : this.trigger();
      };
      this.queued ??= this.running.then(next, next);
      return this.queued;
    }
    clearTimeout(this.timer);
    this.dueAt = Number.POSITIVE_INFINITY;
    this.changedDuringScan = false;
    const scan = this.scan().catch((error: unknown) => {
      this.deps.metrics.auditWriteErrors.inc();
      this.deps.log.error({ err: error instanceof Error ? (error.stack ?? error.message) : String(error) }, "audit scan failed");
      return undefined;
    });
    this.running = scan.finally(() => {
      this.running = undefined;
      if (this.stopped || this.queued) return;
      this.schedule(this.changedDuringScan ? this.changeDelayMs : this.failedWrites > 0 ? this.retryDelayMs : this.deps.intervalMs);
    });
    return this.running;
  }

  /** Failed writes are retried soon, backing off, rather than leaving reports stale for a whole interval. */
  private get retryDelayMs(): number {
    return Math.min(this.deps.intervalMs, (this.deps.retryDelayMs ?? 5_000) * 2 ** Math.min(this.failedWrites - 1, 16));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.dueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.dueAt = Number.POSITIVE_INFINITY;
      void this.trigger();
    }, delayMs);
    this.timer.unref();
  }

  private async scan(): Promise<CheckReport | undefined> {
    const { namespaces, policies, metrics, log } = this.deps;
    const started = performance.now();
    const loaded = this.deps.config();
    const stored = this.deps.exceptions?.();
    const cniPolicies = await this.deps.cniPolicies?.();
    const snapshot = {
      namespaces: namespaces.list(),
      policies: policies.list(),
      ...(cniPolicies ? { cniPolicies } : {}),
      ...(stored ? { exceptions: stored } : {}),
      ...this.deps.topology?.(),
    };
    const report = await auditSnapshotAsync(snapshot, loaded);
    const evaluatedMs = performance.now() - started;
    metrics.auditFindings.reset();
    const byRule: Record<string, number> = {};
    for (const f of report.findings) {
      metrics.auditFindings.inc({ rule: f.rule, action: f.action });
      byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
    }
    const uids = new Map<string, string | undefined>();
    for (const n of snapshot.namespaces) uids.set(`Namespace/${n.metadata?.name}`, n.metadata?.uid);
    for (const p of snapshot.policies) uids.set(`NetworkPolicy/${p.metadata?.namespace}/${p.metadata?.name}`, p.metadata?.uid);
    for (const p of (cniPolicies ?? []) as k8s.KubernetesObject[]) uids.set(keyOf(refOf(p)), p.metadata?.uid);
    const uidOf = (ref: ObjectRef): string | undefined => uids.get(keyOf(ref));
    const terminating = new Set(snapshot.namespaces.filter((n) => n.metadata?.deletionTimestamp).map((n) => n.metadata?.name ?? ""));
    let writes: WriteStats | undefined;
    let writeFailed = true;
    try {
      writes = await this.write(buildPolicyReports(report, uidOf), terminating);
      writeFailed = (writes?.failed ?? 0) > 0;
    } catch (error) {
      metrics.auditWriteErrors.inc();
      log.warn({ err: apiErrorMessage(error) }, "could not write policy reports");
    }
    this.failedWrites = writeFailed ? this.failedWrites + 1 : 0;
    const seconds = (performance.now() - started) / 1000;
    metrics.auditDuration.observe(seconds);
    metrics.auditLastRun.set(Date.now() / 1000);
    log.info(
      {
        policies: snapshot.policies.length,
        namespaces: snapshot.namespaces.length,
        findings: report.findings.length,
        byRule,
        evaluateMs: Math.round(evaluatedMs),
        ms: Math.round(seconds * 1000),
        reports: writes,
        ...(writeFailed ? { retryInMs: this.retryDelayMs } : {}),
      },
      "audit scan",
    );
    return report;
  }

  private async write(desired: { namespaced: Map<string, PolicyReport>; cluster: PolicyReport }, terminating: ReadonlySet<string>): Promise<WriteStats | undefined> {
    const { custom, log, metrics } = this.deps;
    const stats: WriteStats = { created: 0, updated: 0, deleted: 0, failed: 0 };
    let existing: PolicyReport[];
    try {
      existing = await this.listReports();
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
      if (!this.warnedNoCrd) log.warn("PolicyReport CRDs are not installed; findings go to logs and metrics only");
      this.warnedNoCrd = true;
      return undefined;
    }
    if (this.warnedNoCrd) log.info("PolicyReport CRDs found; writing reports");
    this.warnedNoCrd = false;
    // One report failing (a namespace being deleted, a quota) must not keep the others stale.
    const attempt = async (what: string, namespace: string | undefined, call: () => Promise<unknown>, counter: keyof WriteStats | undefined): Promise<void> => {
      try {
        const result = await call();
        const done = counter ?? (typeof result === "string" ? (result as keyof WriteStats) : undefined);
        if (done) stats[done]++;
      } catch (error) {
        if (apiStatus(error) === 404 && counter === "deleted") return; // already gone
        stats.failed++;
        metrics.auditWriteErrors.inc();
        log.warn({ namespace, err: apiErrorMessage(error) }, `could not ${what} a PolicyReport`);
      }
    };
    const byNamespace = new Map(existing.map((r) => [r.metadata.namespace ?? "", r]));
    const writes: (() => Promise<void>)[] = [];
    for (const old of existing) {
      const ns = old.metadata.namespace!;
      if (!desired.namespaced.has(ns) && !terminating.has(ns)) {
        writes.push(() => attempt("delete", ns, () => custom.deleteNamespacedCustomObject({ ...base, plural: "policyreports", namespace: ns, name: old.metadata.name }), "deleted"));
      }
    }
    for (const [ns, report] of desired.namespaced) {
      if (terminating.has(ns)) continue;
      const old = byNamespace.get(ns);
      if (sameResults(old, report)) continue;
      if (old) {
        report.metadata.resourceVersion = old.metadata.resourceVersion;
        writes.push(() => attempt("update", ns, () => custom.replaceNamespacedCustomObject({ ...base, plural: "policyreports", namespace: ns, name: REPORT_NAME, body: report }), "updated"));
      } else {
        writes.push(() => attempt("create", ns, () => custom.createNamespacedCustomObject({ ...base, plural: "policyreports", namespace: ns, body: report }), "created"));
      }
    }
    await inParallel(writes, this.deps.writeConcurrency ?? 8);
    await attempt("write the cluster", undefined, () => this.writeCluster(desired.cluster), undefined);
    return stats;
  }

  /** Every PolicyReport netguard wrote, across namespaces, page by page. */
  private async listReports(): Promise<PolicyReport[]> {
    const items: PolicyReport[] = [];
    let _continue: string | undefined;
    do {
      const page = (await this.deps.custom.listClusterCustomObject({ ...base, plural: "policyreports", labelSelector: SELECTOR, limit: 500, _continue })) as {
        items: PolicyReport[];
        metadata?: { _continue?: string; continue?: string };
      };
      items.push(...page.items.filter((r) => r.metadata.name === REPORT_NAME));
      _continue = page.metadata?.continue ?? page.metadata?._continue;
    } while (_continue);
    return items;
  }

  private async writeCluster(report: PolicyReport): Promise<"created" | "updated" | undefined> {
    const { custom } = this.deps;
    let old: PolicyReport | undefined;
    try {
      old = (await custom.getClusterCustomObject({ ...base, plural: "clusterpolicyreports", name: REPORT_NAME })) as PolicyReport;
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
    }
    if (sameResults(old, report)) return undefined;
    if (old) {
      report.metadata.resourceVersion = old.metadata.resourceVersion;
      await custom.replaceClusterCustomObject({ ...base, plural: "clusterpolicyreports", name: REPORT_NAME, body: report });
      return "updated";
    }
    await custom.createClusterCustomObject({ ...base, plural: "clusterpolicyreports", body: report });
    return "created";
  }
}
