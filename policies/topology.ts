import type { GuardrailConfig, RemoteCluster } from "./config/types.js";
import { AddressSet } from "./net/address-set.js";
import { parseCidr, type Cidr } from "./net/cidr.js";

export type Direction = "ingress" | "egress";

/** Which of a remote's fields came from its published descriptor, and how old that is. */
export interface ImportInfo {
  readonly fields: readonly string[];
  readonly readAt: string;
  readonly ageSeconds: number;
  readonly maxAgeSeconds: number;
  readonly stale: boolean;
}

export interface RemoteRanges {
  readonly remote: RemoteCluster;
  /** Set when the remote's descriptor was imported (policies/discovery/import.ts). */
  readonly imported?: ImportInfo;
  readonly pods: AddressSet;
  readonly services: AddressSet;
  readonly nodes: AddressSet;
  readonly all: AddressSet;
  readonly natSources: AddressSet;
  readonly exposed: AddressSet;
  /** Remote ranges whose addresses never appear in packets crossing the link, per direction. */
  readonly hidden: Record<Direction, AddressSet>;
}

/** The declared multicloud topology as exact address sets, derived once per config. */
export interface Topology {
  /** Undefined when no config declares it (the built-in default). */
  readonly localName: string | undefined;
  readonly clusterLabel: string;
  readonly local: { pods: AddressSet; services: AddressSet; nodes: AddressSet; all: AddressSet };
  readonly remotes: readonly RemoteRanges[];
  /** Union of every remote's pod, service and node ranges. */
  readonly remoteAll: AddressSet;
  /** Every declared address: local and remote ranges, NAT sources and exposed addresses. */
  readonly declared: AddressSet;
  /**
   * Addresses that no packet crossing into (ingress) or out of (egress) this cluster can carry:
   * hidden remote ranges minus every range some traffic does carry.
   */
  readonly hidden: Record<Direction, AddressSet>;
}

const setOf = (cidrs: readonly string[]): AddressSet =>
  AddressSet.of(cidrs.map(parseCidr).filter((c): c is Cidr => c !== undefined));

function remoteRanges(remote: RemoteCluster, imported: ImportInfo | undefined): RemoteRanges {
  const pods = setOf(remote.podCIDRs);
  const services = setOf(remote.serviceCIDRs);
  const nodes = setOf(remote.nodeCIDRs);
  const all = pods.union(services).union(nodes);
  const hidden: Record<Direction, AddressSet> =
    remote.connectivity === "nat"
      ? { ingress: all, egress: all }
      : { ingress: remote.snatToNodes ? pods : AddressSet.empty, egress: AddressSet.empty };
  return {
    remote,
    ...(imported ? { imported } : {}),
    pods,
    services,
    nodes,
    all,
    natSources: setOf(remote.natSourceCIDRs),
    exposed: setOf(remote.exposedCIDRs),
    hidden,
  };
}

/**
 * A remote's own addresses that packets across the link carry: none behind NAT; all of a routed remote's,
 * except snatted pod sources arriving here. Not r.all minus r.hidden: a routed remote's node range may
 * overlap its own pod range (pods and nodes share a subnet with Azure CNI), and node sources do arrive.
 */
function carriedBy(r: RemoteRanges, d: Direction): AddressSet {
  if (r.remote.connectivity === "nat") return AddressSet.empty;
  return d === "ingress" && r.remote.snatToNodes ? r.services.union(r.nodes) : r.all;
}

export function buildTopology(config: GuardrailConfig, imported: ReadonlyMap<string, ImportInfo> = new Map()): Topology {
  const pods = setOf(config.cluster.podCIDRs);
  const services = setOf(config.cluster.serviceCIDRs);
  const nodes = setOf(config.cluster.nodeCIDRs);
  const localAll = pods.union(services).union(nodes);
  const remotes = config.remoteClusters.map((r) => remoteRanges(r, imported.get(r.name)));
  const union = (pick: (r: RemoteRanges) => AddressSet): AddressSet =>
    remotes.reduce((acc, r) => acc.union(pick(r)), AddressSet.empty);
  const remoteAll = union((r) => r.all);
  const translated = union((r) => r.natSources).union(union((r) => r.exposed));
  const hiddenIn = (d: Direction): AddressSet => {
    const claimed = union((r) => r.hidden[d]);
    // Anything a remote does not hide in this direction is carried by some packet.
    const carried = localAll.union(translated).union(union((r) => carriedBy(r, d)));
    return claimed.subtract(carried);
  };
  return {
    localName: config.cluster.name,
    clusterLabel: config.clusterLabel,
    local: { pods, services, nodes, all: localAll },
    remotes,
    remoteAll,
    declared: localAll.union(remoteAll).union(translated),
    hidden: { ingress: hiddenIn("ingress"), egress: hiddenIn("egress") },
  };
}
