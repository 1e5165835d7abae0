/**
 * Not a test: the scale measurement behind docs/controller.md. A real kube-apiserver with netguard
 * (webhooks + controller), 1,000 namespaces and 5,000 NetworkPolicies created through the API in
 * parallel batches, then the controller's audit scan ("audit scan" log line) and `netguard audit`.
 *
 *   npx tsc -p tsconfig.json && npx tsx test/e2e/audit-scale.ts [NAMESPACES] [POLICIES_PER_NAMESPACE]
 */
import * as k8s from "@kubernetes/client-node";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { editConfig, startNetguardEnv } from "../k8s/netguard-env.js";
import { listAll } from "../../kube/raw.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { repoRoot } from "../helpers/paths.js";
import { httpsGet } from "../helpers/https.js";
import { runCli } from "../helpers/cli.js";
import { logLines } from "./controller-helpers.js";

const NAMESPACES = Number(process.argv[2] ?? 1000);
const PER_NAMESPACE = Number(process.argv[3] ?? 5);
const CONCURRENCY = 32;

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        for (let attempt = 1; ; attempt++) {
          try {
            await run(item);
            break;
          } catch (error) {
            const code = (error as { code?: number }).code;
            if (code === 409) break; // created by an earlier attempt that timed out
            if (attempt >= 5) throw error;
            await sleep(200 * attempt);
          }
        }
      }
    }),
  );
  return performance.now() - started;
}

// client-node's typed bodies name the field `_from` (serialised as `from`).
const peer = (i: number, j: number): k8s.V1NetworkPolicy => {
  const name = `p${j}`;
  const metadata = { name, namespace: `scale-${i}` };
  switch (j % 5) {
    case 0: // same-namespace traffic only: no finding
      return { metadata, spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ _from: [{ podSelector: {} }] }] } };
    case 1: // a team's namespaces on one port: no finding
      return {
        metadata,
        spec: { podSelector: { matchLabels: { app: `web-${j}` } }, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: "frontend" } } }], ports: [{ port: 8080 }] }] },
      };
    case 2: // an ipBlock inside the local pod range: ipblock-local-pods (warn) in every other namespace
      return {
        metadata,
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: i % 2 === 0 ? "10.8.1.0/24" : "192.0.2.0/24" } }] }] },
      };
    case 3: // dc-north's nodes (the right way to allow a routed remote that SNATs to its nodes): no finding
      return { metadata, spec: { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: "10.202.0.0/20" } }], ports: [{ port: 443 }] }] } };
    default: // aws-east's exposed range: no finding
      return { metadata, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "198.51.100.0/28" } }], ports: [{ port: 443 }] }] } };
  }
};

/** Denied in enforce mode, so created while netguard audits: nat-hidden-cidr. */
const natHidden = (i: number): k8s.V1NetworkPolicy => ({
  metadata: { name: "allow-aws-east-pods", namespace: `scale-${i}` },
  spec: { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: "10.100.0.0/16" } }] }] },
});

function servePid(configPath: string): number | undefined {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv.includes("serve") && argv.includes(configPath)) return Number(pid);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

const rssMiB = (pid: number | undefined) => {
  if (!pid) return "?";
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return `${(kb / 1024).toFixed(0)} MiB`;
};

const env = await startNetguardEnv({ extraServeArgs: ["--audit-interval", "600"] });
try {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.cluster.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const networking = kc.makeApiClient(k8s.NetworkingV1Api);
  const r = await env.kubectl(["apply", "-f", join(repoRoot, "manifests/crds/policyreports.yaml")]);
  if (r.code !== 0) throw new Error(r.stderr);
  const pid = servePid(env.configPath);
  const indices = Array.from({ length: NAMESPACES }, (_, i) => i);

  // 1. Namespaces, and the controller catching up with their baselines.
  const baselineCount = async () => (await listAll(kc, "/apis/networking.k8s.io/v1/networkpolicies", { fieldSelector: "metadata.name=netguard-baseline" })).items.length;
  const before = await baselineCount();
  const nsStart = performance.now();
  const nsMs = await inBatches(indices, (i) => core.createNamespace({ body: { metadata: { name: `scale-${i}`, labels: { team: i % 3 === 0 ? "frontend" : "backend" } } } }));
  await waitFor("every baseline", async () => (await baselineCount()) >= before + NAMESPACES, 300_000, 500);
  const caughtUp = performance.now() - nsStart;
  console.log(`created ${NAMESPACES} namespaces in ${(nsMs / 1000).toFixed(1)} s (${CONCURRENCY} in flight); every baseline present ${(caughtUp / 1000).toFixed(1)} s after the first create`);

  // 2. Policies that enforce mode admits.
  const policies = indices.flatMap((i) => Array.from({ length: PER_NAMESPACE }, (_, j) => [i, j] as const));
  const deniable = indices.filter((i) => i % 10 === 0);
  const isDeniable = (i: number, j: number) => i % 10 === 0 && j === PER_NAMESPACE - 1; // replaced by a nat-hidden one
  const admittedPolicies = policies.filter(([i, j]) => !isDeniable(i, j));
  const admitted = admittedPolicies.length;
  const polMs = await inBatches(admittedPolicies, ([i, j]) => networking.createNamespacedNetworkPolicy({ namespace: `scale-${i}`, body: peer(i, j) }));
  console.log(`created ${admitted} NetworkPolicies in ${(polMs / 1000).toFixed(1)} s`);

  // 3. A tenth of the namespaces get a policy enforce would deny, admitted while netguard audits.
  const original = readFileSync(env.configPath, "utf8");
  await editConfig(env, (t) => t.replace(/^mode: enforce$/m, "mode: audit"));
  const denMs = await inBatches(deniable, (i) => networking.createNamespacedNetworkPolicy({ namespace: `scale-${i}`, body: natHidden(i) }));
  console.log(`created ${deniable.length} nat-hidden NetworkPolicies in audit mode in ${(denMs / 1000).toFixed(1)} s`);
  const scansBefore = logLines(env, "audit scan").length;
  await editConfig(env, () => original); // the reload triggers a scan

  // 4. Scans: the one after the changes (writes the reports), then an unchanged one (compares only).
  await waitFor("an audit scan of everything", async () => {
    const scans = logLines(env, "audit scan").slice(scansBefore);
    return scans.find((s) => s.policies >= policies.length + NAMESPACES);
  }, 120_000, 250);
  await sleep(12_000); // let change-triggered scans settle
  const settled = logLines(env, "audit scan").length;
  await editConfig(env, (t) => `${t}\n# touched\n`); // a reload triggers a scan
  const steady = await waitFor("a steady-state scan", async () => logLines(env, "audit scan")[settled], 60_000, 250);
  const all = logLines(env, "audit scan").slice(scansBefore);
  for (const s of all) {
    console.log(`audit scan: ${s.namespaces} namespaces, ${s.policies} policies, ${s.findings} findings; evaluate ${s.evaluateMs} ms, total ${s.ms} ms; reports ${JSON.stringify(s.reports)}`);
  }
  console.log(`steady-state scan (nothing to write): ${steady.ms} ms (evaluation ${steady.evaluateMs} ms)`);
  const m = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
  const mib = (name: string) => `${((metricValue(m, name) ?? Number.NaN) / 2 ** 20).toFixed(0)} MiB`;
  console.log(`netguard serve RSS: ${rssMiB(pid)}; V8 heap used ${mib("netguard_nodejs_heap_size_used_bytes")} of ${mib("netguard_nodejs_heap_size_total_bytes")}`);
  const reports = await listAll(kc, "/apis/wgpolicyk8s.io/v1alpha2/policyreports");
  console.log(`PolicyReports in the cluster: ${reports.items.length}`);

  // 5. The same from a laptop.
  const cliStart = performance.now();
  const cli = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath, "--output", "json"]);
  const summary = JSON.parse(cli.stdout).summary;
  console.log(`netguard audit: exit ${cli.code}, ${(performance.now() - cliStart).toFixed(0)} ms wall clock (node start-up included), summary ${JSON.stringify(summary)}`);

} catch (error) {
  for (const l of logLines(env).filter((l) => /audit|report|reload|leader|watch/.test(String(l.msg)))) console.log(JSON.stringify(l).slice(0, 400));
  const { copyFileSync } = await import("node:fs");
  copyFileSync(env.logPath, "/tmp/scale-netguard.log");
  copyFileSync(env.cluster.logs.apiserver, "/tmp/scale-apiserver.log");
  throw error;
} finally {
  await env.stop();
}
