/**
 * The probes of a layout, in one direction of the target pod, and whether each can physically get through when no
 * policy is in the way (what the links route and rewrite, from layout.ts alone). Pure.
 */
import { NS, type Layout } from "./layout.js";

export interface Probe {
  /** The namespace whose agent sends it. */
  ns: string;
  proto: "tcp" | "udp";
  src: string;
  dst: string;
  port: number;
  /** Who sends or receives it, for reports: "local pod", "remote gcp pod (nat)", ... */
  peer: string;
  /** Delivered and answered when no policy applies. */
  reachable: boolean;
}

const FLOWS = [["tcp", 8080], ["udp", 8443]] as const;

interface Peer {
  ns: string;
  address: string;
  peer: string;
  /** Can the target send to it (egress) when nothing filters. */
  reachableFromTarget: boolean;
  /** Can it send to the target (ingress). */
  sends: boolean;
}

function peers(l: Layout): Peer[] {
  const local = (ns: string, addresses: readonly string[], peer: string): Peer[] => addresses.map((address) => ({ ns, address, peer, reachableFromTarget: true, sends: true }));
  const out = [...local(NS.local("pods"), l.localPods, "local pod"), ...local(NS.local("nodes"), l.localNodes, "local node"), ...local(NS.local("outside"), l.outside, "outside both clusters")];
  l.remotes.forEach((r, i) => {
    const routed = r.mode !== "nat";
    const at = `remote ${r.name} (${r.mode})`;
    // Behind NAT the remote's own addresses are not routed here: the target reaches it only at exposed addresses.
    out.push(...r.pods.map((address) => ({ ns: NS.remotePods(i), address, peer: `${at} pod`, reachableFromTarget: routed, sends: true })));
    out.push(...r.gateway.map((address) => ({ ns: NS.gateway(i), address, peer: `${at} ${r.services.includes(address) ? "service" : "node"}`, reachableFromTarget: routed, sends: !r.services.includes(address) })));
    out.push(...r.exposed.map((address) => ({ ns: NS.gateway(i), address, peer: `${at} exposed address`, reachableFromTarget: true, sends: false })));
  });
  return out;
}

export function probes(l: Layout, direction: "ingress" | "egress"): Probe[] {
  const target = NS.local("target");
  return peers(l).flatMap((p) => {
    if (direction === "ingress" && !p.sends) return [];
    return FLOWS.map(([proto, port]): Probe =>
      direction === "ingress"
        ? { ns: p.ns, proto, src: p.address, dst: l.target, port, peer: p.peer, reachable: true }
        : { ns: target, proto, src: l.target, dst: p.address, port, peer: p.peer, reachable: p.reachableFromTarget },
    );
  });
}
