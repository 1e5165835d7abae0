/**
 * Builds a layout (layout.ts) as Linux network namespaces, veth pairs, routes and iptables NAT, and tears it down.
 * Nothing links into the host's own namespace: the only way out of a dataplane namespace is another one of them.
 * Root only.
 */
import { spawnCollect } from "../helpers/spawn.js";
import { extra, linkAddress, NS, NS_PREFIX, type Layout } from "./layout.js";

export const NODE_NS = NS.node;

async function sh(args: readonly string[], stdin?: string): Promise<string> {
  const r = await spawnCollect(args[0]!, args.slice(1), { stdin });
  if (r.code !== 0) throw new Error(`${args.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
/**
 * Runs `ip` commands, in order, a batch (ip -batch) per run of lines for the same namespace ("-n NS ..."), so
 * building a case takes milliseconds; ip's batch mode takes no per-line -n.
 */
async function ipBatch(lines: readonly string[]): Promise<void> {
  const runs: { ns?: string; lines: string[] }[] = [];
  for (const line of lines) {
    const m = /^-n (\S+) (.*)$/.exec(line);
    const ns = m?.[1];
    const rest = m ? m[2]! : line;
    if (runs.at(-1)?.ns !== ns || runs.length === 0) runs.push({ ...(ns ? { ns } : {}), lines: [] });
    runs.at(-1)!.lines.push(rest);
  }
  for (const r of runs) await sh(["ip", ...(r.ns ? ["-n", r.ns] : []), "-batch", "-"], r.lines.join("\n") + "\n");
}
export const inNs = (ns: string, args: readonly string[], stdin?: string) => sh(["ip", "netns", "exec", ns, ...args], stdin);

export async function teardown(): Promise<void> {
  const list = await sh(["ip", "netns", "list"]);
  const ours = list.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n.startsWith(NS_PREFIX));
  await ipBatch(ours.map((n) => `netns delete ${n}`));
}

export interface Built {
  /** Each host namespace and its probe addresses (the node namespace holds none: kube-router admits its own). */
  hosts: { ns: string; addresses: string[] }[];
}

const sysctls = {
  4: ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"],
  // No duplicate address detection: an address is usable the moment it is added.
  6: ["net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"],
};

export async function build(l: Layout): Promise<Built> {
  await teardown();
  const f = l.family;
  const host = f === 4 ? 32 : 128;
  const nodad = f === 6 ? " nodad" : "";
  const cmds: string[] = [];
  const nat: { ns: string; rules: string[] }[] = [];
  const hosts: Built["hosts"] = [];
  const nsList = [NODE_NS];
  cmds.push(`netns add ${NODE_NS}`, `-n ${NODE_NS} link set lo up`, `-n ${NODE_NS} addr add ${l.node}/${host} dev lo${nodad}`);
  /** A namespace on a veth from `parent`, addresses on its eth0, default route back through `parent`. */
  /** `transit` is a point-to-point pair (near end the parent's): a /31, or a /127. */
  const attach = (parent: string, ns: string, dev: string, transit: readonly [string, string], addresses: readonly string[]) => {
    const [near, far] = transit;
    const bits = f === 4 ? 31 : 127;
    nsList.push(ns);
    cmds.push(
      `netns add ${ns}`,
      `-n ${ns} link set lo up`,
      `-n ${parent} link add ${dev} type veth peer name eth0 netns ${ns}`,
      `-n ${parent} addr add ${near}/${bits} dev ${dev}${nodad}`,
      `-n ${parent} link set ${dev} up`,
      `-n ${ns} addr add ${far}/${bits} dev eth0${nodad}`,
      `-n ${ns} link set eth0 up`,
      `-n ${ns} route add ${f === 4 ? "0.0.0.0/0" : "::/0"} via ${near}`,
      ...addresses.flatMap((x) => [`-n ${ns} addr add ${x}/${host} dev eth0${nodad}`, `-n ${parent} route add ${x}/${host} via ${far} dev ${dev}`]),
    );
  };
  const local: [Parameters<typeof NS.local>[0], string, readonly string[]][] = [
    ["target", "v-target", [l.target]],
    ["pods", "v-pods", l.localPods],
    ["nodes", "v-nodes", l.localNodes],
    ["outside", "v-outside", l.outside],
  ];
  local.forEach(([name, dev, addresses], k) => {
    attach(NODE_NS, NS.local(name), dev, [extra(f, `172.30.${k}.0`, `fd30:${k}::`), extra(f, `172.30.${k}.1`, `fd30:${k}::1`)], addresses);
    hosts.push({ ns: NS.local(name), addresses: [...addresses] });
  });
  const here = [l.node, l.target, ...l.localPods, ...l.localNodes];
  l.remotes.forEach((r, i) => {
    const gw = NS.gateway(i);
    const [near, far] = [linkAddress(f, i, 1), linkAddress(f, i, 2)];
    const linkBits = f === 4 ? 30 : 126;
    nsList.push(gw);
    cmds.push(
      `netns add ${gw}`,
      `-n ${gw} link set lo up`,
      `-n ${NODE_NS} link add link${i} type veth peer name eth0 netns ${gw}`,
      `-n ${NODE_NS} addr add ${near}/${linkBits} dev link${i}${nodad}`,
      `-n ${NODE_NS} link set link${i} up`,
      `-n ${gw} addr add ${far}/${linkBits} dev eth0${nodad}`,
      `-n ${gw} link set eth0 up`,
      ...r.gateway.map((x) => `-n ${gw} addr add ${x}/${host} dev lo${nodad}`),
    );
    attach(gw, NS.remotePods(i), "v-pods", [extra(f, `172.26.${i + 1}.0`, `fd26:${i + 1}::`), extra(f, `172.26.${i + 1}.1`, `fd26:${i + 1}::1`)], r.pods);
    // Only the cluster's own addresses are routed to the remote: the outside stays unreachable from it.
    cmds.push(...here.map((x) => `-n ${gw} route add ${x}/${host} via ${near}`));
    const visible = r.mode === "nat" ? [...new Set([...r.snat.map(([, to]) => to), ...r.exposed])] : [...r.gateway, ...r.pods];
    cmds.push(...visible.filter((x) => x !== far).map((x) => `-n ${NODE_NS} route add ${x}/${host} via ${far}`));
    const rules = [
      ...r.snat.map(([from, to]) => `-A POSTROUTING -o eth0 -s ${from}/${host} -j SNAT --to-source ${to}`),
      ...r.exposed.map((x) => `-A PREROUTING -i eth0 -d ${x}/${host} -j DNAT --to-destination ${far}`),
    ];
    nat.push({ ns: gw, rules });
    hosts.push({ ns: gw, addresses: [...r.gateway] }, { ns: NS.remotePods(i), addresses: [...r.pods] });
  });
  // Namespaces first (routes in one need the other's veth), then everything else.
  await ipBatch(cmds.filter((c) => c.startsWith("netns add")));
  await Promise.all(nsList.map((ns) => inNs(ns, ["sysctl", "-q", "-w", ...sysctls[f]])));
  await ipBatch(cmds.filter((c) => !c.startsWith("netns add")));
  const restore = f === 4 ? "iptables-restore" : "ip6tables-restore";
  for (const { ns, rules } of nat) if (rules.length) await inNs(ns, [restore, "--noflush"], `*nat\n${rules.join("\n")}\nCOMMIT\n`);
  return { hosts };
}
