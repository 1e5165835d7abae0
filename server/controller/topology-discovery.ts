import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { buildDescriptor, canonicalJson, DESCRIPTOR_CONFIGMAP, DESCRIPTOR_KEY, liveTopology, type ClusterDescriptor, type LoadedConfig, type Reading } from "../../policies/index.js";
import { listAll } from "../../kube/raw.js";
import { apiErrorMessage } from "../../kube/client.js";
import { API_SOURCES, collectionPath, readKubernetesService, servedSources, sourceStates, type ApiSource, type Served } from "../topology/api-sources.js";
import { writeTopologyConfigMap } from "../topology/configmaps.js";
import { watchResource, type WatchedResource } from "./informer.js";
import type { ControllerMetrics } from "./metrics.js";

export interface TopologyDiscoveryDeps {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  /** netguard's namespace, where the descriptor is published. */
  namespace: string;
  config: () => LoadedConfig;
  namespaceNames: () => readonly string[];
  log: Logger;
  metrics: ControllerMetrics;
  /** Changes within this window are published together (default 1 s). */
  debounceMs?: number;
  /** Which sources are served (CRDs installed later) and the kubernetes Service are re-read this often (default 5 min). */
  refreshMs?: number;
}

/** A ConfigMap holds at most 1 MiB; the namespace list is what grows, so it goes first. */
const MAX_DESCRIPTOR_BYTES = 900_000;

/**
 * Keeps only what discovery reads of a Node (5,000 full Nodes are tens of megabytes of status and images); the
 * informer caches the object this handler trims, as with managedFields.
 */
function trimNode(node: k8s.KubernetesObject): void {
  const n = node as { spec?: Record<string, unknown>; status?: Record<string, unknown>; metadata?: Record<string, unknown> };
  n.spec = { ...(n.spec?.podCIDRs ? { podCIDRs: n.spec.podCIDRs } : {}), ...(n.spec?.podCIDR ? { podCIDR: n.spec.podCIDR } : {}) };
  n.status = { addresses: n.status?.addresses ?? [] };
  if (n.metadata) n.metadata = { name: n.metadata.name, resourceVersion: n.metadata.resourceVersion, uid: n.metadata.uid };
}

/**
 * The leader's topology discovery: watches every source the cluster serves, and after a change (debounced)
 * publishes this cluster's descriptor in netguard's namespace. Every replica reads it back (topology-store.ts).
 */
export class TopologyDiscovery {
  private watches = new Map<ApiSource, WatchedResource<k8s.KubernetesObject>>();
  /** Watches whose first list has loaded: a source listed by none yet says nothing. */
  private readonly listed = new Set<ApiSource>();
  private served = new Map<ApiSource, Served>();
  private kubernetesService: { readings: Reading[]; state: ReturnType<typeof sourceStates>[number] } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();
  private published: string | undefined;
  private stopped = false;

  constructor(private readonly deps: TopologyDiscoveryDeps) {}

  async start(): Promise<void> {
    await this.refresh();
    const every = this.deps.refreshMs ?? 5 * 60_000;
    this.refreshTimer = setInterval(() => void this.refresh(), every);
    this.refreshTimer.unref();
  }

  /** Something changed (a watched object, the config, the namespaces): publish within debounceMs. */
  changed(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publishing = this.publishing.then(() => this.publish());
    }, this.deps.debounceMs ?? 1000);
    this.timer.unref();
  }

  /** Resolves after every change seen so far is published (tests and the bench wait on it). */
  async flushed(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, 20));
    await this.publishing;
  }

  private async refresh(): Promise<void> {
    const { kc, log } = this.deps;
    let served: Map<ApiSource, Served>;
    try {
      served = await servedSources(kc);
    } catch (error) {
      log.warn({ err: apiErrorMessage(error) }, "could not read the API's discovery documents; topology sources unchanged");
      return;
    }
    if (this.stopped) return;
    for (const [source, answer] of served) {
      const watching = this.watches.get(source);
      if (answer.state === "served" && !watching) this.watch(source);
      if (answer.state !== "served" && watching) {
        this.watches.delete(source);
        this.listed.delete(source);
        void watching.stop();
      }
    }
    this.served = served;
    this.kubernetesService = served.get(API_SOURCES[0]!)?.state === "served" ? undefined : await readKubernetesService(kc);
    this.changed();
  }

  private watch(source: ApiSource): void {
    const { kc, log, metrics } = this.deps;
    const path = collectionPath(source);
    const watched = watchResource<k8s.KubernetesObject>(kc, path, () => listAll(kc, path) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>, log.child({ informer: source.resource }), {
      onRestart: () => metrics.watchRestarts.inc({ resource: source.resource }),
      onList: () => metrics.watchLists.inc({ resource: source.resource }),
    });
    if (source.resource === "nodes") {
      watched.cache.on("add", trimNode);
      watched.cache.on("update", trimNode);
    }
    for (const event of ["add", "update", "delete"] as const) watched.cache.on(event, () => this.changed());
    void watched.synced.then(() => {
      if (this.watches.get(source) !== watched) return;
      this.listed.add(source);
      this.changed();
    });
    this.watches.set(source, watched);
  }

  /** The descriptor as of now, from the caches. */
  describe(now = new Date()): ClusterDescriptor {
    const readings: Reading[] = [];
    for (const [source, watched] of this.watches) if (this.listed.has(source)) for (const o of watched.cache.list()) readings.push(...source.read(o as never));
    const unlisted = new Map([...this.watches.keys()].filter((s) => !this.listed.has(s)).map((s) => [s, "not listed yet (the list or watch fails: see netguard's log)"]));
    const states = sourceStates(this.served, unlisted);
    if (this.kubernetesService) {
      readings.push(...this.kubernetesService.readings);
      states.push(this.kubernetesService.state);
    }
    return buildDescriptor(this.deps.config(), liveTopology(readings, states), this.deps.namespaceNames(), now);
  }

  private async publish(): Promise<void> {
    if (this.stopped) return;
    const { core, namespace, log, metrics } = this.deps;
    const started = performance.now();
    let descriptor = this.describe();
    let text = JSON.stringify(descriptor);
    if (text.length > MAX_DESCRIPTOR_BYTES) {
      descriptor = { ...descriptor, remoteCluster: { ...descriptor.remoteCluster, namespaces: [] }, undiscovered: [...descriptor.undiscovered, { field: "namespaces", why: "too many to publish in one ConfigMap" }] };
      text = JSON.stringify(descriptor);
    }
    metrics.topologyDiscoverySeconds.observe((performance.now() - started) / 1000);
    // generatedAt alone changes nothing: the ConfigMap is written when what it says changes.
    const content = canonicalJson({ ...descriptor, generatedAt: "" });
    if (content === this.published) return;
    try {
      const result = await writeTopologyConfigMap(core, namespace, DESCRIPTOR_CONFIGMAP, { [DESCRIPTOR_KEY]: text });
      const before = this.published === undefined ? undefined : (JSON.parse(this.published) as ClusterDescriptor).drift;
      this.published = content;
      for (const d of descriptor.drift) if (!before?.some((b) => b.message === d.message)) log.warn({ path: d.path, fix: d.fix }, `topology drift: ${d.message}`);
      log.info({ result, ranges: descriptor.discovered.length, drift: descriptor.drift.length, bytes: text.length }, "cluster descriptor published");
    } catch (error) {
      metrics.topologyPublishErrors.inc();
      log.warn({ err: apiErrorMessage(error) }, "could not publish the cluster descriptor; retrying on the next change");
      this.timer ??= setTimeout(() => ((this.timer = undefined), this.changed()), 5000).unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.refreshTimer);
    await Promise.all([...this.watches.values()].map((w) => w.stop()));
    this.watches.clear();
    this.listed.clear();
  }
}
