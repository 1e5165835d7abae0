/**
 * Engine: the controller's audit (server/audit/scan.ts, the same engine as the webhook) of many
 * NetworkPolicies against many remote clusters, and how its time grows with policies, CIDRs and peers.
 */
import type * as k8s from "@kubernetes/client-node";
import { evaluatePolicy, loadConfig, type LoadedConfig } from "../policies/index.js";
import { auditSnapshot } from "../server/audit/scan.js";
import { fmt, percentile, table } from "./lib/report.js";

/** A small deterministic PRNG (mulberry32), so every run audits the same objects. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Remote i owns 10.(64+i).0.0/16, cut into /22s; even remotes are behind NAT, odd ones routed (every fourth with snatToNodes). */
export function benchConfig(remotes: number, cidrsPerRemote: number): LoadedConfig {
  const remoteClusters = Array.from({ length: remotes }, (_, i) => {
    const nat = i % 2 === 0;
    const translated = nat ? Math.min(4, cidrsPerRemote - 1) : 0;
    const ranges = Array.from({ length: cidrsPerRemote - translated }, (_, k) => `10.${64 + i}.${k * 4}.0/22`);
    const [pods, services, nodes] = [ranges.filter((_, k) => k % 2 === 0), ranges.filter((_, k) => k % 4 === 1), ranges.filter((_, k) => k % 4 === 3)];
    const common = { name: `remote-${i}`, podCIDRs: pods, serviceCIDRs: services, nodeCIDRs: nodes, namespaces: [`team-${i}`] };
    if (!nat) return { ...common, connectivity: "routed", snatToNodes: i % 4 === 3 };
    const half = Math.ceil(translated / 2);
    return {
      ...common,
      connectivity: "nat",
      natSourceCIDRs: Array.from({ length: half }, (_, k) => `198.18.${i}.${k}/32`),
      exposedCIDRs: Array.from({ length: translated - half }, (_, k) => `198.19.${i}.${k * 16}/28`),
    };
  });
  const result = loadConfig({
    apiVersion: "netguard.dev/v1alpha1",
    kind: "GuardrailConfig",
    cluster: { name: "local", podCIDRs: ["10.8.0.0/14"], serviceCIDRs: ["10.12.0.0/20"], nodeCIDRs: ["10.0.0.0/20"] },
    remoteClusters,
  });
  if (!result.ok) throw new Error(`bench config rejected: ${JSON.stringify(result.problems)}`);
  return result.loaded;
}

/**
 * Policies as a platform would have them: selector peers, NAT sources, routed remote ranges, and about one
 * peer in five that netguard flags (a NAT-hidden range, a remote-cluster namespaceSelector, a local-pod ipBlock).
 */
export function benchPolicies(count: number, peersPerPolicy: number, loaded: LoadedConfig): k8s.V1NetworkPolicy[] {
  const next = random(1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const remotes = loaded.config.remoteClusters;
  const subBlock = (cidr: string) => cidr.replace(/\.\d+\.0\/22$/, (m) => `.${Number(m.split(".")[1]) + Math.floor(next() * 4)}.0/24`);
  const peer = (): Record<string, unknown> => {
    const r = pick(remotes);
    const roll = next();
    if (roll < 0.3) return { podSelector: { matchLabels: { app: `app-${Math.floor(next() * 50)}` } } };
    if (roll < 0.45) return { namespaceSelector: { matchLabels: { team: `team-${Math.floor(next() * 50)}` } } };
    if (roll < 0.6) return { ipBlock: { cidr: pick(r.natSourceCIDRs.length > 0 ? r.natSourceCIDRs : r.nodeCIDRs) } };
    if (roll < 0.8) return { ipBlock: { cidr: subBlock(pick(r.podCIDRs)) } };
    if (roll < 0.9) return { namespaceSelector: { matchLabels: { "netguard.dev/cluster": r.name } } };
    if (roll < 0.95) return { ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } };
    return { ipBlock: { cidr: `10.8.${Math.floor(next() * 256)}.0/24` } };
  };
  return Array.from({ length: count }, (_, p) => {
    const ingress = Math.ceil(peersPerPolicy / 2);
    return {
      metadata: { name: `policy-${p}`, namespace: `ns-${p % 1000}`, uid: `uid-${p}` },
      spec: {
        podSelector: { matchLabels: { app: `app-${p % 50}` } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: Array.from({ length: ingress }, peer), ports: [{ protocol: "TCP", port: 8080 }] }],
        egress: [{ to: Array.from({ length: peersPerPolicy - ingress }, peer), ports: [{ protocol: "TCP", port: 443 }] }],
      },
      // As the apiserver serves them (JSON `from`), not as the typed client renames it (`_from`).
    } as unknown as k8s.V1NetworkPolicy;
  });
}

const namespaces = (n: number): k8s.V1Namespace[] =>
  Array.from({ length: n }, (_, i) => ({ metadata: { name: `ns-${i}`, labels: { "netguard.dev/cluster": "local" } } }));

/** Median wall time of the audit in ms (one warm-up, then `runs` timed runs), and its finding count. */
function timeAudit(loaded: LoadedConfig, policies: k8s.V1NetworkPolicy[], runs = 3): { ms: number; findings: number } {
  const snapshot = { namespaces: namespaces(1000), policies };
  let findings = auditSnapshot(snapshot, loaded).findings.length;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    findings = auditSnapshot(snapshot, loaded).findings.length;
    times.push(performance.now() - started);
  }
  return { ms: percentile(times, 50), findings };
}

/** One policy of `rules` ingress rules × `peers` peers each, as the webhook receives a large one. */
function largePolicy(loaded: LoadedConfig, rules: number, peers: number): k8s.V1NetworkPolicy {
  const [one] = benchPolicies(1, rules * peers, loaded);
  const all = [...((one!.spec!.ingress![0] as { from: unknown[] }).from), ...((one!.spec!.egress![0] as { to: unknown[] }).to)];
  const ingress = Array.from({ length: rules }, (_, r) => ({ from: all.slice(r * peers, (r + 1) * peers), ports: [{ protocol: "TCP", port: 8080 }] }));
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", ...one, spec: { podSelector: {}, policyTypes: ["Ingress"], ingress } } as unknown as k8s.V1NetworkPolicy;
}

/** Median CPU-bound time of one evaluatePolicy (what the webhook runs per review) over `runs` after warm-up. */
function timeEvaluation(object: unknown, loaded: LoadedConfig, runs: number): number {
  for (let i = 0; i < 20; i++) evaluatePolicy(object, loaded);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    evaluatePolicy(object, loaded);
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

export async function engineBench(): Promise<void> {
  {
    const loaded = benchConfig(50, 20);
    const rows = [
      [1, 6],
      [50, 20],
    ].map(([rules, peers]) => {
      const ms = timeEvaluation(largePolicy(loaded, rules!, peers!), loaded, 200);
      return [`${rules} × ${peers}`, rules! * peers!, fmt(ms, 3), fmt((ms * 1000) / (rules! * peers!), 2)];
    });
    console.log(`One policy through evaluatePolicy (validation, model, every rule), 50 remotes × 20 CIDRs, median of 200:\n`);
    console.log(table(["rules × peers", "peers", "ms", "µs per peer"], rows));
    console.log("");
  }

  const [REMOTES, CIDRS, POLICIES, PEERS] = [50, 20, 10_000, 6];
  const headline = benchConfig(REMOTES, CIDRS);
  const main = timeAudit(headline, benchPolicies(POLICIES, PEERS, headline));
  console.log(
    `Audit of ${POLICIES} policies (${PEERS} peers each, 1,000 namespaces) against ${REMOTES} remote clusters × ${CIDRS} CIDRs: ` +
      `**${fmt(main.ms / 1000, 3)} s** (target ≤ 1 s), ${main.findings} findings.\n`,
  );

  const rows = (sizes: number[], run: (n: number) => { ms: number; findings: number; peers: number }) =>
    sizes.map((n) => {
      const r = run(n);
      return [n, fmt(r.ms, 0), r.findings, fmt((r.ms * 1000) / r.peers, 2)];
    });
  console.log(`Time vs policies (${REMOTES} remotes × ${CIDRS} CIDRs, ${PEERS} peers per policy):\n`);
  console.log(
    table(
      ["policies", "ms", "findings", "µs per peer"],
      rows([1_000, 3_000, 10_000, 30_000], (n) => ({ ...timeAudit(headline, benchPolicies(n, PEERS, headline)), peers: n * PEERS })),
    ),
  );
  console.log(`\nTime vs CIDRs per remote (${POLICIES} policies, ${REMOTES} remotes, ${PEERS} peers per policy):\n`);
  console.log(
    table(
      ["CIDRs per remote", "ms", "findings", "µs per peer"],
      rows([5, 10, 20, 40], (c) => {
        const loaded = benchConfig(REMOTES, c);
        return { ...timeAudit(loaded, benchPolicies(POLICIES, PEERS, loaded)), peers: POLICIES * PEERS };
      }),
    ),
  );
  console.log(`\nTime vs peers per policy (${POLICIES} policies, ${REMOTES} remotes × ${CIDRS} CIDRs):\n`);
  console.log(
    table(
      ["peers per policy", "ms", "findings", "µs per peer"],
      rows([2, 6, 12, 24], (p) => ({ ...timeAudit(headline, benchPolicies(POLICIES, p, headline)), peers: POLICIES * p })),
    ),
  );
}
