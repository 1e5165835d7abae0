import type { LoadedConfig } from "./config/load.js";
import { importPeers } from "./discovery/import.js";
import { AddressSet } from "./net/address-set.js";
import { parseCidr, type Cidr } from "./net/cidr.js";
import { fieldPath } from "./path.js";
import type { Direction, Topology } from "./topology.js";
import type { ClusterFacts, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from "./types.js";

export interface PeerView {
  readonly direction: Direction;
  /** e.g. spec.ingress[0].from[1] */
  readonly path: string;
  readonly peer: NetworkPolicyPeer;
  /** For an ipBlock peer: the parsed cidr and the addresses it may match (cidr minus except, under every reading). */
  readonly ipBlock?: { readonly cidr: Cidr; readonly range: AddressSet };
}

export interface RuleView {
  readonly direction: Direction;
  /** e.g. spec.egress[2] */
  readonly path: string;
  /** "from" for ingress, "to" for egress. */
  readonly peersField: "from" | "to";
  /** Undefined or empty means "all peers": nothing to flag. */
  readonly peers: readonly PeerView[];
  readonly ports: readonly NetworkPolicyPort[];
}

/** One validated NetworkPolicy prepared for the rules: every peer with its exact address range. */
export interface PolicyContext {
  readonly policy: NetworkPolicy;
  readonly loaded: LoadedConfig;
  readonly topology: Topology;
  readonly facts: ClusterFacts;
  readonly rules: readonly RuleView[];
  readonly peers: readonly PeerView[];
}

function peerView(direction: Direction, path: string, peer: NetworkPolicyPeer): PeerView {
  if (!peer.ipBlock) return { direction, path, peer };
  const cidr = parseCidr(peer.ipBlock.cidr);
  if (!cidr) throw new Error(`${path}.ipBlock.cidr was not validated`);
  const except = (peer.ipBlock.except ?? []).map(parseCidr).filter((c): c is Cidr => c !== undefined);
  // An IPv4-mapped block (::ffff:10.100.0.0/112) parses as the IPv4 block Go-based CNIs read it as; read as the
  // IPv6 block it is written as, it names only IPv4-mapped addresses, which no IPv6 packet carries.
  return { direction, path, peer, ipBlock: { cidr, range: AddressSet.of([cidr]).subtract(AddressSet.of(except)) } };
}

export function buildContext(policy: NetworkPolicy, loaded: LoadedConfig, facts: ClusterFacts): PolicyContext {
  const rules: RuleView[] = [];
  const sides = [
    { direction: "ingress", field: "from", list: policy.spec.ingress ?? [] },
    { direction: "egress", field: "to", list: policy.spec.egress ?? [] },
  ] as const;
  for (const side of sides) {
    side.list.forEach((rule, i) => {
      const path = fieldPath(["spec", side.direction, i]);
      const raw = (side.field === "from" ? (rule as { from?: NetworkPolicyPeer[] }).from : (rule as { to?: NetworkPolicyPeer[] }).to) ?? [];
      const peers = raw.map((peer, j) => peerView(side.direction, fieldPath(["spec", side.direction, i, side.field, j]), peer));
      rules.push({ direction: side.direction, path, peersField: side.field, peers, ports: rule.ports ?? [] });
    });
  }
  const topology = facts.peers ? importPeers(loaded, facts.peers).topology : loaded.topology;
  return { policy, loaded, topology, facts, rules, peers: rules.flatMap((r) => r.peers) };
}
