/**
 * Topology discovery at 5,000 nodes, on the real kube-apiserver with `netguard serve` (test/k8s/netguard-env.ts):
 * Node objects created through the API as a cloud would; how long the leader takes to publish them, what it holds
 * for them, the cost of one `describe-cluster`, of the pure computation, and the refresh after one more node.
 */
import { readFileSync } from "node:fs";
import { buildDescriptor, liveTopology, loadConfig, READERS, type ClusterDescriptor } from "../policies/index.js";
import { loadKubeConfig } from "../kube/client.js";
import { discoverOnce } from "../server/topology/api-sources.js";
import { startNetguardEnv } from "../test/k8s/netguard-env.js";
import { expectStatus, kubeClient, type Kube } from "./lib/kube.js";
import { fmt, percentile, table } from "./lib/report.js";
import { heap, rssMiB, servePid } from "./lib/server.js";

const NODES = Number(process.env.NETGUARD_BENCH_NODES ?? 5000);
const REFRESHES = 20;
const CONCURRENCY = 16;
const DESCRIPTOR = "/api/v1/namespaces/netguard-system/configmaps/netguard-cluster-descriptor";

/** Node i: pod range 10.(64 + i/256).(i%256).0/24, address 10.1.(i/256).(i%256); outside the fixture's declared ranges, so drift is computed too. */
const nodeObject = (i: number) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: `bench-node-${i}`, labels: { "topology.kubernetes.io/zone": `zone-${i % 3}` } },
  spec: { podCIDRs: [`10.${64 + (i >> 8)}.${i & 255}.0/24`] },
  status: {
    addresses: [
      { type: "InternalIP", address: `10.1.${i >> 8}.${i & 255}` },
      { type: "Hostname", address: `bench-node-${i}` },
    ],
    capacity: { cpu: "8", memory: "32Gi", pods: "110" },
    nodeInfo: { kubeletVersion: "v1.34.4", osImage: "bench", kernelVersion: "6.1", containerRuntimeVersion: "containerd://2.0", architecture: "amd64", operatingSystem: "linux", machineID: "", systemUUID: "", bootID: "", kubeProxyVersion: "" },
  },
});

async function descriptor(kube: Kube): Promise<ClusterDescriptor | undefined> {
  const r = await kube.call("GET", DESCRIPTOR);
  return r.status === 200 ? (JSON.parse(r.body.data["descriptor.json"]) as ClusterDescriptor) : undefined;
}

const podNodes = (d: ClusterDescriptor | undefined): number => (d?.discovered ?? []).filter((r) => r.source === "Node.spec.podCIDRs").reduce((n, r) => n + r.count, 0);

async function until(kube: Kube, ok: (d: ClusterDescriptor | undefined) => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (ok(await descriptor(kube))) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`descriptor not as expected after ${timeoutMs} ms`);
}

export async function topologyBench(): Promise<void> {
  const env = await startNetguardEnv();
  const kube = kubeClient(env.cluster);
  try {
    const pid = servePid(env.configPath);
    await until(kube, (d) => d !== undefined, 30_000);
    const rssBefore = rssMiB(pid);
    const heapBefore = await heap(env.url, readFileSync(env.caPath, "utf8"));

    const created = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < NODES) {
          const i = next++;
          await expectStatus(kube.call("POST", "/api/v1/nodes", nodeObject(i)), `node ${i}`);
        }
      }),
    );
    const createMs = performance.now() - created;
    const publishedMs = await until(kube, (d) => podNodes(d) === NODES, 120_000);
    const published = (await descriptor(kube))!;
    await new Promise((r) => setTimeout(r, 3000)); // let the GC settle after the burst
    const rssAfter = rssMiB(pid);
    const heapAfter = await heap(env.url, readFileSync(env.caPath, "utf8"));

    const refresh: number[] = [];
    for (let i = 0; i < REFRESHES; i++) {
      const n = NODES + i;
      await expectStatus(kube.call("POST", "/api/v1/nodes", nodeObject(n)), `node ${n}`);
      refresh.push(await until(kube, (d) => podNodes(d) === n + 1, 30_000));
    }

    const kc = loadKubeConfig(env.cluster.kubeconfig);
    const once: number[] = [];
    let live;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      live = await discoverOnce(kc);
      once.push(performance.now() - started);
    }
    const readings = Array.from({ length: NODES }, (_, i) => READERS.nodes(nodeObject(i) as never)).flat();
    const config = loadConfig(JSON.parse(JSON.stringify({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: { name: "bench", podCIDRs: ["10.64.0.0/12"], nodeCIDRs: ["10.1.0.0/16"] } })));
    if (!config.ok) throw new Error("bench config rejected");
    const pure: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      buildDescriptor(config.loaded, liveTopology(readings, [{ source: "Node.spec.podCIDRs", state: "served" }, { source: "Node.status.addresses", state: "served" }]), [], new Date());
      pure.push(performance.now() - started);
    }

    console.log(
      table(
        ["figure", "value"],
        [
          ["Node objects created (16 in flight)", `${NODES} in ${fmt(createMs / 1000, 1)} s`],
          ["last Node created → descriptor published with all of them", `${fmt(publishedMs, 0)} ms`],
          ["descriptor size", `${JSON.stringify(published).length} bytes, ${published.discovered.length} merged ranges`],
          ["netguard RSS before → after the Nodes", `${fmt(rssBefore, 0)} → ${fmt(rssAfter, 0)} MiB`],
          ["netguard heap before → after", `${heapBefore} → ${heapAfter}`],
          [`one more Node → republished (${REFRESHES} times), p50 / p95 / max`, `${fmt(percentile(refresh, 50), 0)} / ${fmt(percentile(refresh, 95), 0)} / ${fmt(Math.max(...refresh), 0)} ms (1 s of it is the debounce)`],
          ["`describe-cluster` discovery (list every source), p50 of 5", `${fmt(percentile(once, 50), 0)} ms (${live?.ranges.length} ranges)`],
          [`pure descriptor from ${NODES} Nodes' readings, p50 / max of 20`, `${fmt(percentile(pure, 50), 1)} / ${fmt(Math.max(...pure), 1)} ms`],
        ],
      ),
    );
  } finally {
    kube.close();
    await env.stop();
  }
}
