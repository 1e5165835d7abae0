import type { PeerView, Syntax } from "../model/policy.js";
import type { AddressSet } from "../net/address-set.js";
import { parseCidr, type Family } from "../net/cidr.js";
import type { Direction, RemoteRanges, Topology } from "../topology.js";

const VERB = { allow: "allows", deny: "denies", pass: "passes" } as const;

/** "an empty `from` allows all traffic": why a rule's peer list must never be left empty. */
export const emptyPeersWarning = (peer: PeerView): string => peer.emptied ?? `an empty \`${peer.peersField}\` ${VERB[peer.action]} all traffic`;

/** The sentence that ends every fix which drops a peer. */
export function removePeerAdvice(peer: PeerView): string {
  return `Otherwise remove this peer; if it is the rule's only peer, remove the whole rule instead, because ${emptyPeersWarning(peer)}.`;
}

/** "pod range 10.100.0.0/16" style names of a remote's ranges that overlap `range`, in `range`'s address families. */
export function describeRemoteRanges(remote: RemoteRanges, range: AddressSet, within: AddressSet): string {
  const parts: string[] = [];
  for (const [label, set] of [
    ["pod", remote.pods],
    ["service", remote.services],
    ["node", remote.nodes],
  ] as const) {
    const hit = set.intersect(range).intersect(within);
    if (!hit.isEmpty()) parts.push(`${label} range ${set.inFamiliesOf(hit).toCidrs().join(", ")}`);
  }
  return `${remote.remote.name}'s ${parts.join(" and ")}`;
}

export function remotesOverlapping(topology: Topology, range: AddressSet, pick: (r: RemoteRanges) => AddressSet): RemoteRanges[] {
  return topology.remotes.filter((r) => pick(r).overlaps(range));
}

/**
 * "ipBlock cidr A or ipBlock cidr B": the CIDRs of `family` when some are (a flagged IPv4 block is
 * replaced by IPv4 blocks), otherwise all of them, since they are the only addresses that traffic uses.
 */
export function addressChoices(cidrs: readonly string[], syntax: Syntax, direction: Direction, family?: Family): string {
  const same = family === undefined ? [] : cidrs.filter((c) => parseCidr(c)?.family === family);
  return (same.length > 0 ? same : cidrs).map((c) => syntax.address(c, direction)).join(" or ");
}

const declareAdvice = (name: string, field: string): string => `Declare ${name}'s ${field} in the netguard config and allow those addresses instead`;

/**
 * One sentence: the addresses that traffic from (ingress) or to (egress) a remote really carries
 * across the link, to match it by instead of a selector or a hidden range. `family` is that of
 * the flagged ipBlock, when there is one.
 */
export function addressAlternative(remote: RemoteRanges, direction: Direction, syntax: Syntax, family?: Family): string {
  const { name, connectivity, snatToNodes, natSourceCIDRs, exposedCIDRs, nodeCIDRs, podCIDRs } = remote.remote;
  if (connectivity === "nat" && direction === "ingress") {
    return natSourceCIDRs.length > 0
      ? `Allow ${name}'s NAT source addresses instead (${addressChoices(natSourceCIDRs, syntax, direction, family)}).`
      : `${declareAdvice(name, "natSourceCIDRs")}.`;
  }
  if (connectivity === "nat") {
    return exposedCIDRs.length > 0
      ? `Dial ${name} through its exposed addresses instead (${addressChoices(exposedCIDRs, syntax, direction, family)}).`
      : `${declareAdvice(name, "exposedCIDRs")}.`;
  }
  if (direction === "ingress" && snatToNodes) {
    const allow = nodeCIDRs.length > 0 ? `Allow ${name}'s node range (${addressChoices(nodeCIDRs, syntax, direction, family)}) instead` : declareAdvice(name, "nodeCIDRs");
    return `${allow}: it rewrites pod sources to its node addresses.`;
  }
  const allow = podCIDRs.length > 0 ? `Allow ${name}'s pod range (${addressChoices(podCIDRs, syntax, direction, family)}) instead` : declareAdvice(name, "podCIDRs");
  return `${allow}: the routed link keeps pod addresses.`;
}
