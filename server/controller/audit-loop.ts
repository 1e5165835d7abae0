import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { LoadedConfig, ObjectRef } from "../../policies/index.js";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../policies/index.js";
import { buildPolicyReports, REPORT_GROUP, REPORT_NAME, REPORT_VERSION, sameResults, type PolicyReport } from "../audit/policy-reports.js";
import type { CheckReport } from "../audit/report.js";
import { auditSnapshot } from "../audit/scan.js";
import { apiErrorMessage, apiStatus } from "../kube/client.js";
import type { Cache } from "./informer.js";
import type { ControllerMetrics } from "./metrics.js";

export interface AuditLoopDeps {
  custom: k8s.CustomObjectsApi;
  namespaces: Cache<k8s.V1Namespace>;
  policies: Cache<k8s.V1NetworkPolicy>;
  config: () => LoadedConfig;
  log: Logger;
  metrics: ControllerMetrics;
  intervalMs: number;
}

const base = { group: REPORT_GROUP, version: REPORT_VERSION };
const SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** Periodically audits the cached cluster state and mirrors it into PolicyReports. */
export class AuditLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CheckReport | undefined> | undefined;
  private stopped = false;
  private warnedNoCrd = false;

  constructor(private readonly deps: AuditLoopDeps) {}

  start(): void {
    void this.trigger();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Runs a scan now (or joins the one running) and reschedules the next. */
  trigger(): Promise<CheckReport | undefined> {
    this.running ??= this.scan().finally(() => {
      this.running = undefined;
      clearTimeout(this.timer);
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.trigger(), this.deps.intervalMs);
        this.timer.unref();
      }
    });
    return this.running;
  }

  private async scan(): Promise<CheckReport | undefined> {
    const { namespaces, policies, metrics, log } = this.deps;
    const started = performance.now();
    const loaded = this.deps.config();
    const snapshot = { namespaces: namespaces.list(), policies: policies.list() };
    const report = auditSnapshot(snapshot, loaded);
    metrics.auditFindings.reset();
    for (const f of report.findings) metrics.auditFindings.inc({ rule: f.rule, action: f.action });
    const uids = new Map<string, string | undefined>();
    for (const n of snapshot.namespaces) uids.set(`Namespace/${n.metadata?.name}`, n.metadata?.uid);
    for (const p of snapshot.policies) uids.set(`NetworkPolicy/${p.metadata?.namespace}/${p.metadata?.name}`, p.metadata?.uid);
    const uidOf = (ref: ObjectRef): string | undefined => uids.get(ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`);
    try {
      await this.write(buildPolicyReports(report, uidOf));
    } catch (error) {
      log.warn({ err: apiErrorMessage(error) }, "could not write policy reports");
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.auditDuration.observe(seconds);
    log.info({ policies: snapshot.policies.length, namespaces: snapshot.namespaces.length, findings: report.findings.length, ms: Math.round(seconds * 1000) }, "audit scan");
    return report;
  }

  private async write(desired: { namespaced: Map<string, PolicyReport>; cluster: PolicyReport }): Promise<void> {
    const { custom } = this.deps;
    let existing: PolicyReport[];
    try {
      const list = (await custom.listClusterCustomObject({ ...base, plural: "policyreports", labelSelector: SELECTOR })) as { items: PolicyReport[] };
      existing = list.items;
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
      if (!this.warnedNoCrd) this.deps.log.warn("PolicyReport CRDs are not installed; findings go to logs and metrics only");
      this.warnedNoCrd = true;
      return;
    }
    for (const old of existing) {
      const ns = old.metadata.namespace!;
      if (!desired.namespaced.has(ns)) {
        await custom.deleteNamespacedCustomObject({ ...base, plural: "policyreports", namespace: ns, name: old.metadata.name });
      }
    }
    for (const [ns, report] of desired.namespaced) {
      const old = existing.find((r) => r.metadata.namespace === ns && r.metadata.name === REPORT_NAME);
      if (sameResults(old, report)) continue;
      if (old) {
        report.metadata.resourceVersion = old.metadata.resourceVersion;
        await custom.replaceNamespacedCustomObject({ ...base, plural: "policyreports", namespace: ns, name: REPORT_NAME, body: report });
      } else {
        await custom.createNamespacedCustomObject({ ...base, plural: "policyreports", namespace: ns, body: report });
      }
    }
    await this.writeCluster(desired.cluster);
  }

  private async writeCluster(report: PolicyReport): Promise<void> {
    const { custom } = this.deps;
    let old: PolicyReport | undefined;
    try {
      old = (await custom.getClusterCustomObject({ ...base, plural: "clusterpolicyreports", name: REPORT_NAME })) as PolicyReport;
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
    }
    if (sameResults(old, report)) return;
    if (old) {
      report.metadata.resourceVersion = old.metadata.resourceVersion;
      await custom.replaceClusterCustomObject({ ...base, plural: "clusterpolicyreports", name: REPORT_NAME, body: report });
    } else {
      await custom.createClusterCustomObject({ ...base, plural: "clusterpolicyreports", body: report });
    }
  }
}
