import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { DESCRIPTOR_CONFIGMAP, DESCRIPTOR_KEY, liveFromDescriptor, readDescriptor, readPeerDescriptors, type LiveTopology, type PeerDescriptor, type PeerFacts } from "../../policies/index.js";
import { listAll } from "../../kube/raw.js";
import { PEERS_CONFIGMAP, TOPOLOGY_LABEL } from "../topology/configmaps.js";
import { watchResource, type WatchedResource } from "./informer.js";

/** How long one PeerFacts object (and so the merged topology built from it) serves requests before `now` moves on. */
const PEER_FACTS_TTL_MS = 1000;

/**
 * Every replica's view of the topology ConfigMaps the leader writes: this cluster's live topology (from its own
 * descriptor) and the peers' descriptors. The webhook's facts and the audit read them here, so that a follower
 * judges with the same facts as the leader.
 */
export class TopologyStore {
  private readonly watched: WatchedResource<k8s.V1ConfigMap>;
  private live: LiveTopology | undefined;
  private peers: ReadonlyMap<string, PeerDescriptor> = new Map();
  private peerFacts: { facts: PeerFacts; until: number } | undefined;

  constructor(kc: k8s.KubeConfig, namespace: string, private readonly log: Logger, hooks: { onRestart: () => void; onChange: () => void }) {
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    this.watched = watchResource<k8s.V1ConfigMap>(kc, path, () => listAll(kc, path, { labelSelector: TOPOLOGY_LABEL }) as Promise<k8s.KubernetesListObject<k8s.V1ConfigMap>>, log, {
      labelSelector: TOPOLOGY_LABEL,
      onRestart: hooks.onRestart,
    });
    // The leader rewrites the imports every refresh (readAt moves on): only a change of what they say re-runs the audit.
    let said = "";
    const changed = (cm: k8s.V1ConfigMap, deleted = false): void => {
      const name = cm.metadata?.name;
      if (name === DESCRIPTOR_CONFIGMAP) this.live = deleted ? undefined : this.readLive(cm);
      else if (name === PEERS_CONFIGMAP) this.peers = deleted ? new Map() : this.readPeers(cm);
      else return;
      this.peerFacts = undefined;
      const now = JSON.stringify([this.live, [...this.peers].map(([remote, p]) => [remote, p.descriptor, p.error])]);
      if (now !== said) hooks.onChange();
      said = now;
    };
    this.watched.cache.on("add", (cm) => changed(cm));
    this.watched.cache.on("update", (cm) => changed(cm));
    this.watched.cache.on("delete", (cm) => changed(cm, true));
  }

  private parse(cm: k8s.V1ConfigMap, key: string): unknown {
    const text = cm.data?.[key];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      this.log.warn({ configMap: cm.metadata?.name, key, err: (error as Error).message }, "topology ConfigMap entry is not JSON; ignored");
      return undefined;
    }
  }

  private readLive(cm: k8s.V1ConfigMap): LiveTopology | undefined {
    const read = readDescriptor(this.parse(cm, DESCRIPTOR_KEY));
    const live = read.ok ? liveFromDescriptor(read.descriptor) : undefined;
    if (!live) this.log.warn({ configMap: DESCRIPTOR_CONFIGMAP, problems: read.ok ? undefined : read.problems }, "this cluster's descriptor cannot be read: rules take the declared ranges as they are");
    return live;
  }

  private readPeers(cm: k8s.V1ConfigMap): Map<string, PeerDescriptor> {
    const { peers, problems } = readPeerDescriptors(cm.data ?? {});
    for (const problem of problems) this.log.warn({ configMap: PEERS_CONFIGMAP, ...problem }, "stored peer descriptor cannot be read; ignored");
    return peers;
  }

  liveTopology(): LiveTopology | undefined {
    return this.live;
  }

  /** The peers' descriptors as stored (the importer starts from them: a restart drops no last known descriptor). */
  storedPeers(): ReadonlyMap<string, PeerDescriptor> {
    return this.peers;
  }

  peerFactsAt(now: Date): PeerFacts | undefined {
    if (this.peers.size === 0) return undefined;
    if (!this.peerFacts || now.getTime() >= this.peerFacts.until) this.peerFacts = { facts: { items: this.peers, now }, until: now.getTime() + PEER_FACTS_TTL_MS };
    return this.peerFacts.facts;
  }

  stop(): Promise<void> {
    return this.watched.stop();
  }
}
