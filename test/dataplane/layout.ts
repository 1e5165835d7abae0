/**
 * From a generated case (test/property/fixtures) to the hosts of a two-cluster dataplane: which network namespace
 * holds which addresses (one family at a time), and what each link between the clusters rewrites. Pure: network.ts builds it.
 * Addresses are chosen adversarially: for every element under test, each place that could send (ingress) or
 * receive (egress) a packet inside the element's block gets such an address when the world allows it there.
 */
import { UNIVERSE, UNIVERSE_BITS, type Block, type Family } from "../property/fixtures/addresses.js";
import type { Case, RemoteModel } from "../property/fixtures/world.js";

export interface Probed {
  /** The ipBlock under test, as written: cidr minus except, of the layout's family. */
  cidr: Block;
  except: Block[];
  direction: "ingress" | "egress";
}

export interface RemoteHosts {
  name: string;
  mode: "nat" | "routed" | "snatToNodes";
  /** Its gateway (node) namespace: node and service addresses, plus sources that exist only to be NATed. */
  gateway: string[];
  /** Its pods' namespace. */
  pods: string[];
  /** The service addresses among `gateway`: destinations only, never sources. */
  services: string[];
  /** nat: each source address of the remote and the NAT source address it leaves as; snatToNodes: pod -> node. */
  snat: [string, string][];
  /** nat: exposed addresses here that the gateway translates to itself. */
  exposed: string[];
}

export interface Layout {
  family: Family;
  node: string;
  target: string;
  /** Other pods of this cluster (Pod objects in the API, on this node). */
  localPods: string[];
  /** Other nodes of this cluster (hostNetwork endpoints, no Pod object). */
  localNodes: string[];
  /** Addresses of the rest of the world (no cluster owns them). */
  outside: string[];
  remotes: RemoteHosts[];
}

/** The network namespaces of a dataplane, all under one prefix (teardown removes every one of them). */
export const NS_PREFIX = "ngdp-";
export const NS = {
  node: `${NS_PREFIX}node`,
  local: (host: "target" | "pods" | "nodes" | "outside") => `${NS_PREFIX}${host}`,
  gateway: (remote: number) => `${NS_PREFIX}gw${remote}`,
  remotePods: (remote: number) => `${NS_PREFIX}pods${remote}`,
};

/** An address of the world's universe (addresses.ts: 10.0.0.0/18 and fd00::/114) as text. */
export function address(family: Family, offset: number): string {
  if (family === 6) return `fd00::${offset.toString(16)}`;
  const a = 0x0a000000 + offset;
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".");
}
const within = (f: Family, a: number, blocks: readonly Block[]) => blocks.some((b) => b.family === f && a >= b.start && a < b.start + 2 ** b.bits);

/**
 * Addresses outside the universe, for hosts the world does not place (no ipBlock can name them): the node and
 * target when the cluster has no range of the family, NAT sources a remote lacks, the links' own addresses.
 */
export const extra = (family: Family, v4: string, v6: string) => (family === 4 ? v4 : v6);

class Picker {
  readonly used = new Set<number>();
  constructor(readonly family: Family) {}
  /** An unused address inside `blocks` (and inside `probed` minus its except, when given). */
  pick(blocks: readonly Block[], probed?: Probed, exclude: readonly Block[] = []): string | undefined {
    const f = this.family;
    const candidates = probed ? [probed.cidr] : blocks.filter((b) => b.family === f);
    for (const b of candidates) {
      for (let a = b.start; a < Math.min(UNIVERSE, b.start + 2 ** b.bits); a++) {
        if (this.used.has(a) || !within(f, a, blocks) || within(f, a, exclude) || (probed && within(f, a, probed.except))) continue;
        this.used.add(a);
        return address(f, a);
      }
    }
    return undefined;
  }
  /** A representative of each block, then a witness inside each probed element of this direction. */
  spread(blocks: readonly Block[], probed: readonly Probed[], exclude: readonly Block[] = []): string[] {
    const out = blocks.filter((b) => b.family === this.family).flatMap((b) => this.pick([b], undefined, exclude) ?? []);
    for (const p of probed) {
      const a = this.pick(blocks, p, exclude);
      if (a) out.push(a);
    }
    return out;
  }
}

/** The two ends of remote i's link to the node (end 1 the node's, end 2 the gateway's). */
export const linkAddress = (family: Family, remote: number, end: 1 | 2) => extra(family, `172.31.${remote + 1}.${end}`, `fd31:${remote + 1}::${end}`);

const owned = (r: RemoteModel) => [...r.pods, ...r.services, ...r.nodes];

/** The hosts of one address family (the elements probed must be of that family). */
export function layout(c: Case, probed: readonly Probed[], family: Family): Layout {
  const w = c.world;
  const p = new Picker(family);
  const ingress = probed.filter((e) => e.direction === "ingress");
  const egress = probed.filter((e) => e.direction === "egress");
  const node = p.pick(w.local.nodes) ?? extra(family, "172.31.0.1", "fd31::1");
  const target = p.pick(w.local.pods) ?? extra(family, "172.29.0.10", "fd29::10");
  // Local pods and nodes send (ingress) and receive (egress) alike.
  const localPods = p.spread(w.local.pods, probed);
  const localNodes = p.spread(w.local.nodes, probed);
  const remotes = w.remotes.map((r, i): RemoteHosts => {
    const mode = r.connectivity === "nat" ? "nat" : r.snatToNodes ? "snatToNodes" : "routed";
    // Egress reaches every address the remote owns when routed; ingress sources are pods and nodes, never services.
    const pods = p.spread(r.pods, probed);
    const nodes = p.spread(r.nodes, probed);
    const services = mode === "nat" ? [] : p.spread(r.services, egress);
    const gateway = [...nodes, ...services];
    if (mode === "snatToNodes") {
      const to = nodes[0] ?? linkAddress(family, i, 2);
      return { name: r.name, mode, gateway, pods, services, snat: pods.map((a) => [a, to]), exposed: [] };
    }
    if (mode === "routed") return { name: r.name, mode, gateway, pods, services, snat: [], exposed: [] };
    const natSources = p.spread(r.natSources, ingress);
    const exposed = p.spread(r.exposed, egress);
    const sources = [...pods, ...nodes];
    // Every NAT source address is used by some flow: sources the remote lacks are added, outside the universe.
    for (let k = 0; sources.length < natSources.length; k++) {
      sources.push(extra(family, `172.28.${i + 1}.${k + 10}`, `fd28:${i + 1}::${k + 10}`));
      gateway.push(sources.at(-1)!);
    }
    const to = (k: number) => natSources[k % natSources.length] ?? linkAddress(family, i, 2);
    return { name: r.name, mode, gateway, pods, services, snat: sources.map((a, k) => [a, to(k)]), exposed };
  });
  // The rest of the world: addresses no remote owns and no NAT rule uses (the config's contract for remotes).
  const taken = [...w.remotes.flatMap((r) => [...owned(r), ...r.natSources, ...r.exposed]), ...w.local.pods, ...w.local.nodes];
  const anywhere = { family, start: 0, bits: UNIVERSE_BITS };
  const outside = probed.flatMap((e) => p.pick([anywhere], e, taken) ?? []);
  outside.push(p.pick([{ family, start: UNIVERSE - 16, bits: 4 }], undefined, taken) ?? extra(family, "172.27.0.1", "fd27::1"));
  return { family, node, target, localPods, localNodes, outside, remotes };
}
