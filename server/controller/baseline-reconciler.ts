import * as k8s from "@kubernetes/client-node";
import {
  baselineDrifted,
  baselineStatus,
  buildBaselinePolicy,
  isManagedPolicy,
  NETGUARD_FIELD_MANAGER,
  type NetworkPolicy,
} from "../../policies/index.js";
import { apiErrorMessage, apiStatus } from "../../kube/client.js";
import type { ControllerContext } from "./context.js";
import { WorkQueue } from "./work-queue.js";

export interface BaselineReconcilerDeps extends ControllerContext {
  core: k8s.CoreV1Api;
  networking: k8s.NetworkingV1Api;
  concurrency?: number;
}

const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

/**
 * Keeps the baseline NetworkPolicy in every protected namespace exactly as configured:
 * creates it, repairs drift and deletion, removes it on opt-out. It also backfills the cluster
 * label on namespaces that predate netguard. In audit mode it writes nothing. It writes, repairs and
 * deletes only policies that are netguard's (isManagedPolicy): a policy netguard did not make that holds
 * the baseline's name is left alone and reported.
 *
 * Every decision is made from the informer caches; a write the apiserver rejects is retried
 * with per-key exponential backoff (never a hot loop), counted and logged.
 */
export class BaselineReconciler {
  readonly queue: WorkQueue;
  /** When each namespace was first seen without its baseline, for the latency metric. */
  private readonly seenAt = new Map<string, number>();
  /** Namespaces whose baseline name is taken by a policy that is not netguard's. */
  private readonly nameTaken = new Set<string>();

  constructor(private readonly deps: BaselineReconcilerDeps) {
    this.queue = new WorkQueue((ns) => this.reconcile(ns), {
      concurrency: deps.concurrency ?? 16,
      onError: (ns, error, attempt, retryInMs) => {
        deps.metrics.reconcileErrors.inc();
        deps.log.warn({ namespace: ns, attempt, retryInMs, err: apiErrorMessage(error) }, "baseline reconcile failed; will retry");
      },
    });
  }

  enqueueAll(): void {
    for (const ns of this.deps.namespaces.list()) this.queue.add(ns.metadata?.name ?? "");
  }

  namespaceSeen(name: string): void {
    if (!this.seenAt.has(name)) this.seenAt.set(name, performance.now());
    this.queue.add(name);
  }

  stop(): void {
    this.queue.stop();
    this.seenAt.clear();
    this.nameTaken.clear();
    this.deps.metrics.baselineNameTaken.set(0);
  }

  private get fieldManager(): string {
    return NETGUARD_FIELD_MANAGER;
  }

  /** Logged once when it starts; the gauge says how many namespaces are in that state. */
  private reportNameTaken(namespace: string, taken: NetworkPolicy | undefined): void {
    const { log, metrics } = this.deps;
    if (taken && !this.nameTaken.has(namespace)) {
      this.nameTaken.add(namespace);
      log.warn(
        { namespace, policy: taken.metadata.name, labels: taken.metadata.labels ?? {} },
        "the baseline's name is taken by a NetworkPolicy netguard did not make; leaving it alone (rename or delete it, and netguard creates the baseline)",
      );
    } else if (!taken && this.nameTaken.delete(namespace)) {
      log.info({ namespace }, "the baseline's name is free again");
    }
    metrics.baselineNameTaken.set(this.nameTaken.size);
  }

  private async reconcile(name: string): Promise<void> {
    const { namespaces, policies, networking, log, metrics } = this.deps;
    const { config } = this.deps.config();
    const ns = namespaces.get(name);
    if (!ns || ns.metadata?.deletionTimestamp) {
      this.seenAt.delete(name);
      this.reportNameTaken(name, undefined);
      return;
    }
    if (config.mode === "audit") {
      // Reported by the audit scan (missing-baseline) and the netguard_namespaces metric; nothing is written.
      this.seenAt.delete(name);
      return;
    }
    const status = baselineStatus(ns as never, config);
    const desired = status === "protected" ? buildBaselinePolicy(name, config) : undefined;
    if (!desired) this.seenAt.delete(name);
    const managed = policies.list(name).filter((p) => isManagedPolicy(p as never));
    const stale = managed.filter((p) => p.metadata?.name !== desired?.metadata.name);
    const current = desired ? (policies.get(desired.metadata.name!, name) as unknown as NetworkPolicy | undefined) : undefined;

    // The baseline first: it is what closes the namespace; the label can follow.
    for (const p of stale) {
      await ignoreNotFound(networking.deleteNamespacedNetworkPolicy({ name: p.metadata!.name!, namespace: name }));
      metrics.baselineWrites.inc({ action: "delete" });
      log.info({ namespace: name, policy: p.metadata?.name, status }, "removed managed baseline");
    }
    const taken = current && !isManagedPolicy(current) ? current : undefined;
    this.reportNameTaken(name, taken);
    if (desired && !taken) {
      if (!current) {
        await this.create(desired);
      } else if (baselineDrifted(current, desired)) {
        await this.repair(desired, current);
      }
      const seen = this.seenAt.get(name);
      if (seen !== undefined) {
        metrics.baselineLatency.observe((performance.now() - seen) / 1000);
        this.seenAt.delete(name);
      }
    }
    const clusterName = config.cluster.name;
    if (clusterName !== undefined && ns.metadata?.labels?.[config.clusterLabel] === undefined) await this.stampClusterLabel(name, config.clusterLabel, clusterName);
  }

  /** A merge patch of one label: no resourceVersion, so no conflict with other writers. */
  private async stampClusterLabel(name: string, key: string, value: string): Promise<void> {
    try {
      await this.deps.core.patchNamespace({ name, body: { metadata: { labels: { [key]: value } } }, fieldManager: this.fieldManager }, mergePatch);
    } catch (error) {
      if (apiStatus(error) === 404) return; // gone meanwhile
      throw error;
    }
    this.deps.metrics.baselineWrites.inc({ action: "label" });
    this.deps.log.info({ namespace: name }, "backfilled cluster label");
  }

  private async create(desired: NetworkPolicy): Promise<void> {
    const namespace = desired.metadata.namespace!;
    try {
      await this.deps.networking.createNamespacedNetworkPolicy({ namespace, body: desired as k8s.V1NetworkPolicy, fieldManager: this.fieldManager });
    } catch (error) {
      const status = apiStatus(error);
      // 409: it exists but the cache has not seen it yet; its watch event requeues the namespace.
      if (status === 409) return;
      // 404 / 403 "being terminated": the namespace is going away; its delete event ends this.
      if ((status === 404 || status === 403) && /not found|being terminated/i.test(apiErrorMessage(error))) return;
      throw error;
    }
    this.deps.metrics.baselineWrites.inc({ action: "create" });
    this.deps.log.info({ namespace }, "created baseline");
  }

  private async repair(desired: NetworkPolicy, current: NetworkPolicy): Promise<void> {
    const namespace = desired.metadata.namespace!;
    try {
      await this.deps.networking.replaceNamespacedNetworkPolicy({
        name: desired.metadata.name!,
        namespace,
        body: { ...(desired as k8s.V1NetworkPolicy), metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion } } as k8s.V1NetworkPolicy,
        fieldManager: this.fieldManager,
      });
    } catch (error) {
      const status = apiStatus(error);
      // 409: our cached copy is stale; 404: deleted meanwhile. Either way a watch event is on its way,
      // and the retry (with backoff) decides again from the fresher cache.
      if (status === 404) return;
      throw error;
    }
    this.deps.metrics.baselineWrites.inc({ action: "repair" });
    this.deps.log.info({ namespace }, "repaired drifted baseline");
  }
}

async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
}
