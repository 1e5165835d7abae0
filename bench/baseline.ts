/**
 * Namespace created → baseline present, on the real kube-apiserver with `netguard serve --kubeconfig`
 * (webhooks and controller, test/k8s/netguard-env.ts): from the create call returning to the baseline
 * NetworkPolicy arriving on a watch. Then many namespaces, for the controller's catch-up and its RSS.
 */
import { readFileSync } from "node:fs";
import { startNetguardEnv } from "../test/k8s/netguard-env.js";
import { expectStatus, kubeClient, type Kube } from "./lib/kube.js";
import { fmt, percentile, table } from "./lib/report.js";
import { heap, rssMiB, servePid } from "./lib/server.js";

const ONE_BY_ONE = Number(process.env.NETGUARD_BENCH_NAMESPACES_TIMED ?? 100);
const CACHED = Number(process.env.NETGUARD_BENCH_NAMESPACES ?? 10_000);
const BASELINE = "netguard-baseline";

/** Resolves with the ms from call to the baseline being seen, per namespace. */
function baselineWaiter(kube: Kube) {
  const seen = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const watch = kube.watch(`/apis/networking.k8s.io/v1/networkpolicies?fieldSelector=metadata.name%3D${BASELINE}`, (type, object) => {
    const ns = object?.metadata?.namespace as string | undefined;
    if (type !== "ADDED" || !ns || seen.has(ns)) return;
    seen.set(ns, performance.now());
    waiting.get(ns)?.();
  });
  const until = (ns: string) => (seen.has(ns) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(ns, resolve)));
  return { seen, until, stop: () => watch.stop() };
}

const createNamespace = (kube: Kube, name: string) => expectStatus(kube.call("POST", "/api/v1/namespaces", { metadata: { name } }), `namespace ${name}`);

export async function baselineBench(): Promise<void> {
  const env = await startNetguardEnv();
  const kube = kubeClient(env.cluster);
  const baselines = baselineWaiter(kube);
  try {
    const pid = servePid(env.configPath);
    await baselines.until("default"); // the controller leads and has reconciled what was there
    console.log(`Controller leading; netguard RSS ${fmt(rssMiB(pid), 0)} MiB.\n`);

    const latencies: number[] = [];
    for (let i = 0; i < ONE_BY_ONE; i++) {
      const name = `timed-${i}`;
      await createNamespace(kube, name);
      const created = performance.now();
      await baselines.until(name);
      latencies.push(baselines.seen.get(name)! - created);
    }
    const burst: number[] = [];
    const returned = new Map<string, number>();
    for (let i = 0; i < ONE_BY_ONE; i++) {
      await createNamespace(kube, `burst-${i}`);
      returned.set(`burst-${i}`, performance.now());
    }
    for (const [name, at] of returned) {
      await baselines.until(name);
      burst.push(baselines.seen.get(name)! - at);
    }
    const row = (what: string, xs: number[]) => [what, xs.length, fmt(percentile(xs, 50), 1), fmt(percentile(xs, 99), 1), fmt(percentile(xs, 100), 1)];
    console.log(
      table(
        ["namespaces created", "n", "p50 ms", "p99 ms", "max ms"],
        [row("one at a time (next after its baseline)", latencies), row("back to back (no waiting)", burst)],
      ),
    );
    console.log("\nTarget: p99 ≤ 250 ms.");

    const bulk = Math.max(0, CACHED - 2 * ONE_BY_ONE);
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < bulk) await createNamespace(kube, `bulk-${next++}`);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const created = performance.now();
    for (let i = 0; i < bulk; i++) await baselines.until(`bulk-${i}`);
    const caughtUp = performance.now();
    console.log(
      `\n${bulk} more namespaces (8 concurrent creates): created in ${fmt((created - started) / 1000, 1)} s; every baseline present ` +
        `${fmt((caughtUp - created) / 1000, 1)} s after the last create returned. netguard with ${baselines.seen.size} namespaces cached: ` +
        `RSS ${fmt(rssMiB(pid), 0)} MiB (peak ${fmt(rssMiB(pid, "VmHWM"), 0)} MiB; target ≤ 120 MB).`,
    );
    await new Promise((r) => setTimeout(r, 15_000));
    const memory = await heap(env.url, readFileSync(env.caPath, "utf8"));
    console.log(`After 15 s idle: RSS ${fmt(rssMiB(pid), 0)} MiB; V8 heap ${memory}.`);
  } finally {
    baselines.stop();
    kube.close();
    await env.stop();
  }
}
