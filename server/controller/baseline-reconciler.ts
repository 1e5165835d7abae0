import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import {
  baselineDrifted,
  baselineStatus,
  buildBaselinePolicy,
  isManagedPolicy,
  type LoadedConfig,
  type NetworkPolicy,
} from "../../policies/index.js";
import { apiErrorMessage, apiStatus } from "../kube/client.js";
import type { Cache } from "./informer.js";
import type { ControllerMetrics } from "./metrics.js";
import { WorkQueue } from "./work-queue.js";

export interface BaselineReconcilerDeps {
  core: k8s.CoreV1Api;
  networking: k8s.NetworkingV1Api;
  namespaces: Cache<k8s.V1Namespace>;
  policies: Cache<k8s.V1NetworkPolicy>;
  config: () => LoadedConfig;
  log: Logger;
  metrics: ControllerMetrics;
  /** Field manager recorded on every write. */
  fieldManager?: string;
}

/**
 * Keeps the baseline NetworkPolicy in every protected namespace exactly as configured:
 * creates it, repairs drift and deletion, removes it on opt-out. It also backfills the cluster
 * label on namespaces that predate netguard. In audit mode it writes nothing.
 */
export class BaselineReconciler {
  readonly queue: WorkQueue;
  /** When each namespace was first seen without its baseline, for the latency metric. */
  private readonly seenAt = new Map<string, number>();

  constructor(private readonly deps: BaselineReconcilerDeps) {
    this.queue = new WorkQueue((ns) => this.reconcile(ns), {
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
  }

  private async reconcile(name: string): Promise<void> {
    const { namespaces, policies, networking, log, metrics } = this.deps;
    const { config } = this.deps.config();
    const ns = namespaces.get(name);
    if (!ns || ns.metadata?.deletionTimestamp) {
      this.seenAt.delete(name);
      return;
    }
    const managed = policies.list(name).filter((p) => isManagedPolicy(p as never));
    const status = baselineStatus(ns as never, config);
    const desired = status === "protected" ? buildBaselinePolicy(name, config) : undefined;
    const stale = managed.filter((p) => p.metadata?.name !== desired?.metadata.name);
    const current = policies.get(config.baseline.name, name) as unknown as NetworkPolicy | undefined;
    if (config.mode === "audit") return; // reported by the audit scan; nothing is written
    if (ns.metadata?.labels?.[config.clusterLabel] === undefined) await this.stampClusterLabel(ns, config.clusterLabel, config.cluster.name);

    for (const p of stale) {
      await ignoreNotFound(networking.deleteNamespacedNetworkPolicy({ name: p.metadata!.name!, namespace: name }));
      metrics.baselineWrites.inc({ action: "delete" });
      log.info({ namespace: name, policy: p.metadata?.name, status }, "removed managed baseline");
    }
    if (!desired) return;
    if (!current) {
      await this.create(desired);
    } else if (!isManagedPolicy(current) || baselineDrifted(current, desired)) {
      await networking.replaceNamespacedNetworkPolicy({
        name: desired.metadata.name!,
        namespace: name,
        body: { ...(desired as k8s.V1NetworkPolicy), metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion } } as k8s.V1NetworkPolicy,
        fieldManager: this.deps.fieldManager ?? "netguard",
      });
      metrics.baselineWrites.inc({ action: "repair" });
      log.info({ namespace: name }, "repaired drifted baseline");
    }
    const seen = this.seenAt.get(name);
    if (seen !== undefined) {
      metrics.baselineLatency.observe((performance.now() - seen) / 1000);
      this.seenAt.delete(name);
    }
  }

  /** Optimistic update from the cache: a 409 retries with backoff once the cache has caught up. */
  private async stampClusterLabel(ns: k8s.V1Namespace, key: string, value: string): Promise<void> {
    const body: k8s.V1Namespace = { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata?.labels, [key]: value } } };
    await this.deps.core.replaceNamespace({ name: ns.metadata!.name!, body, fieldManager: this.deps.fieldManager ?? "netguard" });
    this.deps.log.info({ namespace: ns.metadata?.name }, "backfilled cluster label");
  }

  private async create(desired: NetworkPolicy): Promise<void> {
    const namespace = desired.metadata.namespace!;
    try {
      await this.deps.networking.createNamespacedNetworkPolicy({
        namespace,
        body: desired as k8s.V1NetworkPolicy,
        fieldManager: this.deps.fieldManager ?? "netguard",
      });
      this.deps.metrics.baselineWrites.inc({ action: "create" });
      this.deps.log.info({ namespace }, "created baseline");
    } catch (error) {
      // 409: it exists but the cache has not seen it yet; the watch event will requeue the namespace.
      if (apiStatus(error) !== 409) throw error;
    }
  }
}

async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
}
