import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { isManagedPolicy, type ClusterFacts, type LoadedConfig } from "../../policies/index.js";
import type { KubeClients } from "../kube/client.js";
import { AuditLoop } from "./audit-loop.js";
import { BaselineReconciler } from "./baseline-reconciler.js";
import { watchResource, type WatchedResource } from "./informer.js";
import { LeaderElector } from "./leader-election.js";
import { controllerMetrics } from "./metrics.js";

export interface ControllerOptions {
  clients: KubeClients;
  config: () => LoadedConfig;
  log: Logger;
  registry: Registry;
  /** Unique per replica; recorded as the lease holder. */
  identity: string;
  leaseNamespace: string;
  leaseName?: string;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
  auditIntervalMs?: number;
}

export interface Controller {
  /** Cluster facts for the webhook, from this replica's namespace cache. */
  facts(): ClusterFacts;
  /** Resolves once the namespace cache holds the first full list. */
  synced: Promise<void>;
  isLeader(): boolean;
  /** Call after a config reload: every baseline is re-checked and the audit re-run. */
  configChanged(): void;
  /** The running audit loop while leading (tests and `netguard audit` use it). */
  audit(): AuditLoop | undefined;
  reconciler(): BaselineReconciler | undefined;
  stop(): Promise<void>;
}

/**
 * The controller half of `netguard serve`. Every replica caches namespaces (the webhook's facts);
 * only the elected leader watches NetworkPolicies, reconciles baselines and audits.
 */
export function startController(o: ControllerOptions): Controller {
  const { clients, log } = o;
  const names = new Set<string>();
  let reconciler: BaselineReconciler | undefined;
  let auditLoop: AuditLoop | undefined;
  let policies: WatchedResource<k8s.V1NetworkPolicy> | undefined;

  const namespaces = watchResource<k8s.V1Namespace>(clients.kc, "/api/v1/namespaces", () => clients.core.listNamespace(), log.child({ informer: "namespaces" }));
  const metrics = controllerMetrics(o.registry, () => namespaces.cache.list(), o.config, () => (reconciler ? countMissing() : 0));

  function countMissing(): number {
    const { config } = o.config();
    if (!policies) return 0;
    return namespaces.cache
      .list()
      .filter((ns) => !policies!.cache.get(config.baseline.name, ns.metadata?.name ?? "")).length;
  }

  namespaces.cache.on("add", (ns) => {
    names.add(ns.metadata?.name ?? "");
    reconciler?.namespaceSeen(ns.metadata?.name ?? "");
  });
  namespaces.cache.on("update", (ns) => reconciler?.queue.add(ns.metadata?.name ?? ""));
  namespaces.cache.on("delete", (ns) => names.delete(ns.metadata?.name ?? ""));

  const lead = (): void => {
    metrics.isLeader.set(1);
    policies = watchResource<k8s.V1NetworkPolicy>(
      clients.kc,
      "/apis/networking.k8s.io/v1/networkpolicies",
      () => clients.networking.listNetworkPolicyForAllNamespaces(),
      log.child({ informer: "networkpolicies" }),
    );
    const watched = policies;
    reconciler = new BaselineReconciler({ core: clients.core, networking: clients.networking, namespaces: namespaces.cache, policies: watched.cache, config: o.config, log: log.child({ component: "baseline" }), metrics });
    const r = reconciler;
    const onPolicy = (p: k8s.V1NetworkPolicy): void => {
      if (isManagedPolicy(p as never) || p.metadata?.name === o.config().config.baseline.name) r.queue.add(p.metadata?.namespace ?? "");
    };
    watched.cache.on("add", onPolicy);
    watched.cache.on("update", onPolicy);
    watched.cache.on("delete", onPolicy);
    auditLoop = new AuditLoop({
      custom: clients.custom,
      namespaces: namespaces.cache,
      policies: watched.cache,
      config: o.config,
      log: log.child({ component: "audit" }),
      metrics,
      intervalMs: o.auditIntervalMs ?? 5 * 60_000,
    });
    const a = auditLoop;
    void Promise.all([namespaces.synced, watched.synced]).then(() => {
      if (reconciler !== r) return; // lost leadership meanwhile
      r.enqueueAll(); // backfill every namespace that exists already
      a.start();
    });
  };

  const unlead = (): void => {
    metrics.isLeader.set(0);
    reconciler?.stop();
    auditLoop?.stop();
    void policies?.stop();
    reconciler = undefined;
    auditLoop = undefined;
    policies = undefined;
  };

  const elector = new LeaderElector({
    coordination: clients.coordination,
    namespace: o.leaseNamespace,
    name: o.leaseName ?? "netguard-controller",
    identity: o.identity,
    log: log.child({ component: "leader-election" }),
    leaseDurationSeconds: o.leaseDurationSeconds,
    retryPeriodMs: o.retryPeriodMs,
    onStartedLeading: lead,
    onStoppedLeading: unlead,
  });
  void namespaces.synced.then(() => elector.start());

  return {
    facts: () => ({ localNamespaces: names }),
    synced: namespaces.synced,
    isLeader: () => elector.isLeader,
    configChanged: () => {
      reconciler?.enqueueAll();
      void auditLoop?.trigger();
    },
    audit: () => auditLoop,
    reconciler: () => reconciler,
    stop: async () => {
      await elector.stop();
      unlead();
      await namespaces.stop();
    },
  };
}
