import type { PeerView } from "../context.js";
import type { AddressSet } from "../net/address-set.js";
import type { RemoteRanges, Topology } from "../topology.js";

/** The part of every fix that must never leave from/to empty. */
export function removePeerAdvice(field: "from" | "to"): string {
  return `or remove this peer; if it is the rule's only peer, remove the whole rule instead, because an empty \`${field}\` allows all traffic`;
}

export const peersFieldOf = (peer: PeerView): "from" | "to" => (peer.direction === "ingress" ? "from" : "to");

/** "pod range 10.100.0.0/16" style names of a remote's ranges that overlap `range`. */
export function describeRemoteRanges(remote: RemoteRanges, range: AddressSet, within: AddressSet): string {
  const parts: string[] = [];
  for (const [label, set] of [
    ["pod", remote.pods],
    ["service", remote.services],
    ["node", remote.nodes],
  ] as const) {
    const hit = set.intersect(range).intersect(within);
    if (!hit.isEmpty()) parts.push(`${label} range ${set.toCidrs().join(", ")}`);
  }
  return `${remote.remote.name}'s ${parts.join(" and ")}`;
}

export function remotesOverlapping(topology: Topology, range: AddressSet, pick: (r: RemoteRanges) => AddressSet): RemoteRanges[] {
  return topology.remotes.filter((r) => pick(r).overlaps(range));
}

/** How traffic from or to a NATed remote can be matched instead. */
export function natAlternative(remote: RemoteRanges, direction: "ingress" | "egress"): string {
  const name = remote.remote.name;
  if (direction === "ingress") {
    const sources = remote.remote.natSourceCIDRs;
    if (remote.remote.connectivity === "routed") {
      return `${name} rewrites pod sources to its node addresses: allow its node range ${remote.remote.nodeCIDRs.join(", ") || "(declare nodeCIDRs for it)"} instead`;
    }
    return sources.length > 0
      ? `allow ${name}'s NAT source addresses instead (ipBlock cidr ${sources.join(", ")})`
      : `declare ${name}'s natSourceCIDRs in the netguard config and allow those addresses instead`;
  }
  const exposed = remote.remote.exposedCIDRs;
  return exposed.length > 0
    ? `dial ${name} through its exposed addresses instead (ipBlock cidr ${exposed.join(", ")})`
    : `declare ${name}'s exposedCIDRs in the netguard config and allow those addresses instead`;
}

