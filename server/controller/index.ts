import { listCniPolicies } from "../audit/cni-policies.js";
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { baselineDrifted, buildBaselinePolicy, isManagedPolicy, topologyFindings, type ClusterFacts, type LoadedConfig, type NetworkPolicy } from "../../policies/index.js";
import type { KubeClients } from "../../kube/client.js";
import { listAll } from "../../kube/raw.js";
import { AuditLoop } from "./audit-loop.js";
import { ClusterLabelIndex } from "./cluster-label-index.js";
import { cniMismatch, detectCni } from "./cni-detection.js";
import { ExceptionCache } from "./exceptions.js";
import { BaselineReconciler } from "./baseline-reconciler.js";
import { watchResource, type WatchedResource } from "./informer.js";
import { PeerImporter } from "./peer-import.js";
import { TopologyDiscovery } from "./topology-discovery.js";
import { TopologyStore } from "./topology-store.js";
import { LeaderElector } from "./leader-election.js";
import { controllerMetrics } from "./metrics.js";
import { PodGuard, type PodGuardVerdict } from "./pod-guard.js";

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
  /** Every namespace is re-checked this often even without events (client-go's resync). */
  resyncIntervalMs?: number;
  /** Refuse Pods in namespaces whose baseline is not in place yet (`serve --pod-guard`). */
  podGuard?: boolean;
  /** Every remote's descriptor is read this often (`serve --descriptor-refresh`). */
  descriptorRefreshMs?: number;
  /** Which topology sources are served is re-checked this often. */
  topologyRefreshMs?: number;
}

export interface Controller {
  /** Cluster facts for the webhook, from this replica's namespace cache (no namespace facts until synced). */
  facts(): ClusterFacts;
  /** Resolves once the namespace cache holds the first full list. */
  synced: Promise<void>;
  isLeader(): boolean;
  /** Call after a config reload: every baseline is re-checked and the audit re-run. */
  configChanged(): void;
  /** The running audit loop while leading (tests and `netguard audit` use it). */
  audit(): AuditLoop | undefined;
  /** The leader's topology discovery (tests and the bench wait on it). */
  discovery(): TopologyDiscovery | undefined;
  reconciler(): BaselineReconciler | undefined;
  /** The pod guard's verdict for a Pod CREATE in `namespace`; undefined when the guard is off. */
  podGuard?: (namespace: string | undefined) => Promise<PodGuardVerdict>;
  stop(): Promise<void>;
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/**
 * The controller half of `netguard serve`. Every replica caches namespaces (the webhook's facts);
 * only the elected leader watches NetworkPolicies, reconciles baselines and audits.
 */
export function startController(o: ControllerOptions): Controller {
  const { clients, log } = o;
  const names = new Set<string>();
  /** Namespaces with a deletionTimestamp: their cleanup is never refused (policies/guardrails.ts). */
  const terminating = new Set<string>();
  const track = (ns: k8s.V1Namespace): void => {
    const name = ns.metadata?.name ?? "";
    if (ns.metadata?.deletionTimestamp) terminating.add(name);
    else terminating.delete(name);
  };
  let namespacesSynced = false;
  let reconciler: BaselineReconciler | undefined;
  let auditLoop: AuditLoop | undefined;
  let policies: WatchedResource<k8s.V1NetworkPolicy> | undefined;
  let discovery: TopologyDiscovery | undefined;
  let importer: PeerImporter | undefined;
  /** Leading and both caches synced: decisions made from the caches are sound. */
  let ready = false;
  let resyncTimer: NodeJS.Timeout | undefined;

  let detectedCni: "calico" | "cilium" | undefined;
  // Declared before the watches start so that their restarts can be counted.
  const metrics = controllerMetrics(o.registry, {
    exceptions: () => exceptions.counts(new Date()),
    topology: () => {
      const now = new Date();
      const facts = topologyFacts(now);
      return {
        ranges: facts.liveTopology?.ranges,
        drift: topologyFindings(o.config(), facts),
        descriptorAges: o.config().config.remoteClusters.filter((r) => r.descriptorFrom).map((r) => {
          const readAt = topology.storedPeers().get(r.name)?.readAt;
          return [r.name, readAt === undefined ? undefined : Math.max(0, (now.getTime() - Date.parse(readAt)) / 1000)] as const;
        }),
      };
    },
    cniMismatch: () => cniMismatch(o.config().config.cluster.cni, detectedCni),
    namespaces: () => namespaces.cache.list(),
    config: o.config,
    baselineInPlace: () => {
      const cache = policies?.cache;
      if (!ready || !cache) return undefined;
      const { config } = o.config();
      return (ns) => {
        const current = cache.get(config.baseline.name, ns) as unknown as NetworkPolicy | undefined;
        return current !== undefined && isManagedPolicy(current) && !baselineDrifted(current, buildBaselinePolicy(ns, config));
      };
    },
  });

  // Lists return the apiserver's JSON, the same shape as watch events (client-node's typed lists rename fields).
  const list = <T extends k8s.KubernetesObject>(path: string) => () => listAll<T>(clients.kc, path) as Promise<k8s.KubernetesListObject<T>>;
  const namespaces = watchResource<k8s.V1Namespace>(clients.kc, "/api/v1/namespaces", list("/api/v1/namespaces"), log.child({ informer: "namespaces" }), {
    onRestart: () => metrics.watchRestarts.inc({ resource: "namespaces" }),
    onList: () => metrics.watchLists.inc({ resource: "namespaces" }),
  });
  const unlabelled = new ClusterLabelIndex(() => namespaces.cache.list());
  /** Each namespace's labels, read from the cache: ruleOverrides and exception selectors are judged against them. */
  const labels = {
    get: (name: string) => {
      const ns = namespaces.cache.get(name);
      return ns ? (ns.metadata?.labels ?? {}) : undefined;
    },
  };
  const exceptions = new ExceptionCache(clients.kc, log.child({ informer: "guardrailexceptions" }), {
    onRestart: () => metrics.watchRestarts.inc({ resource: "guardrailexceptions" }),
    onChange: () => auditLoop?.changed(),
  });
  /** Every replica reads the topology the leader publishes: the same facts on every replica. */
  const topology = new TopologyStore(clients.kc, o.leaseNamespace, log.child({ informer: "topology-configmaps" }), {
    onRestart: () => metrics.watchRestarts.inc({ resource: "configmaps" }),
    onChange: () => auditLoop?.changed(),
  });
  const topologyFacts = (now: Date): Pick<ClusterFacts, "liveTopology" | "peers"> => ({
    ...optional("liveTopology", topology.liveTopology()),
    ...optional("peers", topology.peerFactsAt(now)),
  });
  void namespaces.synced.then(() => {
    namespacesSynced = true;
    log.info({ namespaces: names.size }, "namespace cache synced");
  });

  const reportCni = (): void => {
    const declared = o.config().config.cluster.cni;
    if (cniMismatch(declared, detectedCni)) {
      log.warn({ declared, detected: detectedCni }, `cluster.cni is ${declared} but the cluster serves ${detectedCni}'s CRDs: rules that rest on the CNI's semantics warn instead of denying`);
    } else if (declared === "generic" && detectedCni) {
      log.info({ detected: detectedCni }, `the cluster serves ${detectedCni}'s CRDs; declare cluster.cni: ${detectedCni} to let rules rest on its semantics`);
    }
  };
  void detectCni(clients.kc).then(
    (cni) => {
      detectedCni = cni;
      reportCni();
    },
    (error: unknown) => log.warn({ err: error }, "could not read the API groups to recognise the CNI"),
  );

  namespaces.cache.on("add", (ns) => {
    names.add(ns.metadata?.name ?? "");
    unlabelled.upsert(ns);
    track(ns);
    reconciler?.namespaceSeen(ns.metadata?.name ?? "");
    auditLoop?.changed();
    discovery?.changed();
  });
  namespaces.cache.on("update", (ns) => {
    unlabelled.upsert(ns);
    track(ns);
    reconciler?.queue.add(ns.metadata?.name ?? "");
    auditLoop?.changed();
  });
  namespaces.cache.on("delete", (ns) => {
    names.delete(ns.metadata?.name ?? "");
    unlabelled.remove(ns);
    terminating.delete(ns.metadata?.name ?? "");
    auditLoop?.changed();
    discovery?.changed();
  });

  const lead = (): void => {
    metrics.isLeader.set(1);
    policies = watchResource<k8s.V1NetworkPolicy>(
      clients.kc,
      "/apis/networking.k8s.io/v1/networkpolicies",
      list("/apis/networking.k8s.io/v1/networkpolicies"),
      log.child({ informer: "networkpolicies" }),
      { onRestart: () => metrics.watchRestarts.inc({ resource: "networkpolicies" }), onList: () => metrics.watchLists.inc({ resource: "networkpolicies" }) },
    );
    const watched = policies;
    reconciler = new BaselineReconciler({ core: clients.core, networking: clients.networking, namespaces: namespaces.cache, policies: watched.cache, config: o.config, log: log.child({ component: "baseline" }), metrics });
    const r = reconciler;
    discovery = new TopologyDiscovery({
      kc: clients.kc,
      core: clients.core,
      namespace: o.leaseNamespace,
      config: o.config,
      namespaceNames: () => [...names],
      log: log.child({ component: "topology" }),
      metrics,
      ...optional("refreshMs", o.topologyRefreshMs),
    });
    void discovery.start();
    importer = new PeerImporter({
      core: clients.core,
      namespace: o.leaseNamespace,
      config: o.config,
      stored: () => topology.storedPeers(),
      log: log.child({ component: "descriptor-import" }),
      metrics,
      ...optional("refreshMs", o.descriptorRefreshMs),
    });
    importer.start();
    auditLoop = new AuditLoop({
      custom: clients.custom,
      namespaces: namespaces.cache,
      policies: watched.cache,
      exceptions: () => exceptions.stored(),
      cniPolicies: () => listCniPolicies(clients.kc),
      topology: () => topologyFacts(new Date()),
      config: o.config,
      log: log.child({ component: "audit" }),
      metrics,
      intervalMs: o.auditIntervalMs ?? 5 * 60_000,
    });
    const a = auditLoop;
    const onPolicy = (p: k8s.V1NetworkPolicy): void => {
      if (isManagedPolicy(p as never) || p.metadata?.name === o.config().config.baseline.name) r.queue.add(p.metadata?.namespace ?? "");
      if (ready) a.changed();
    };
    watched.cache.on("add", onPolicy);
    watched.cache.on("update", onPolicy);
    watched.cache.on("delete", onPolicy);
    void Promise.all([namespaces.synced, watched.synced]).then(async () => {
      if (reconciler !== r) return; // lost leadership meanwhile
      ready = true;
      log.info({ namespaces: namespaces.cache.list().length, policies: watched.cache.list().length }, "caches synced; reconciling every namespace");
      r.enqueueAll(); // backfill every namespace that exists already
      resyncTimer = setInterval(() => r.enqueueAll(), o.resyncIntervalMs ?? 10 * 60_000);
      resyncTimer.unref();
      // The first audit after the backfill, so that it reports what is left to fix, not the backlog.
      await Promise.race([r.queue.idle(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      if (reconciler === r) a.start();
    });
  };

  const unlead = (): void => {
    metrics.isLeader.set(0);
    ready = false;
    clearInterval(resyncTimer);
    reconciler?.stop();
    auditLoop?.stop();
    void discovery?.stop();
    importer?.stop();
    discovery = undefined;
    importer = undefined;
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
  const guard = o.podGuard
    ? new PodGuard({ kc: clients.kc, namespaces: namespaces.cache, synced: () => namespacesSynced, config: o.config, log: log.child({ component: "pod-guard" }), decisions: metrics.podGuardDecisions })
    : undefined;
  let stopping = false;
  void namespaces.synced.then(() => {
    if (!stopping) elector.start();
  });

  return {
    facts: () => {
      const now = new Date();
      const known = { ...(detectedCni ? { detectedCni } : {}), ...optional("exceptions", exceptions.facts(now)), ...topologyFacts(now) };
      if (!namespacesSynced) return { origin: "cluster", ...known };
      const { config } = o.config();
      return {
        origin: "cluster",
        localNamespaces: names,
        namespaceLabels: labels,
        terminatingNamespaces: terminating,
        namespacesNotLabelledLocal: unlabelled.view(config.clusterLabel, config.cluster.name),
        ...known,
      };
    },
    synced: namespaces.synced,
    isLeader: () => elector.isLeader,
    configChanged: () => {
      reportCni();
      discovery?.changed();
      void importer?.trigger();
      if (!ready) return; // the backfill after sync reads the new config anyway
      reconciler?.enqueueAll();
      void auditLoop?.trigger();
    },
    audit: () => auditLoop,
    discovery: () => discovery,
    reconciler: () => reconciler,
    ...(guard ? { podGuard: (namespace: string | undefined) => guard.check(namespace) } : {}),
    stop: async () => {
      stopping = true;
      await elector.stop();
      unlead();
      await Promise.all([namespaces.stop(), exceptions.stop(), topology.stop()]);
    },
  };
}
