/**
 * The topology from the clusters themselves, on two real control planes (kube-apiserver, etcd and
 * kube-controller-manager each) with netguard in each: cluster A's Nodes and ServiceCIDR are created through its
 * API as a cloud would; A's leader publishes its descriptor; B imports it with a least-privilege token for A and
 * judges policies naming A's ranges; A's drift shows in its ClusterPolicyReport.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig } from "../../policies/index.js";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { runCli } from "../helpers/cli.js";
import { httpsGet } from "../helpers/https.js";
import { repoRoot } from "../helpers/paths.js";
import { metricSum, metricValue } from "../helpers/prometheus.js";
import { waitFor } from "../helpers/wait.js";
import { getJson, kubectlOk } from "./controller-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "netguard-topology-"));
const configA = join(dir, "cloud-a.yaml");
const configB = join(dir, "cloud-b.yaml");
// A declares no pod range: its Nodes say what it is. Its service range is the harness apiserver's (10.12.0.0/20).
writeFileSync(
  configA,
  `apiVersion: netguard.dev/v1alpha1
kind: GuardrailConfig
cluster:
  name: cloud-a
  serviceCIDRs: [10.12.0.0/20]
  nodeCIDRs: [10.0.0.0/20]
  natSourceCIDRs: [203.0.113.50/32]
  exposedCIDRs: [198.51.100.64/28]
`,
);
// B knows only how the link to A is made; everything else comes from A's descriptor.
writeFileSync(
  configB,
  `apiVersion: netguard.dev/v1alpha1
kind: GuardrailConfig
cluster:
  name: cloud-b
  podCIDRs: [10.60.0.0/16]
  serviceCIDRs: [10.12.0.0/20]
  nodeCIDRs: [10.61.0.0/20]
remoteClusters:
  - name: cloud-a
    connectivity: nat
    descriptorFrom: {secretName: cloud-a-kubeconfig}
`,
);

const REFRESH_SECONDS = 2;
let a: NetguardEnv;
let b: NetguardEnv;
t.before(async () => {
  [a, b] = await Promise.all([
    startNetguardEnv({ config: configA, policyReportCrds: true, extraServeArgs: ["--audit-interval", "5"] }),
    startNetguardEnv({ config: configB, policyReportCrds: true, extraServeArgs: ["--audit-interval", "5", "--descriptor-refresh", String(REFRESH_SECONDS)] }),
  ]);
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const nodeYaml = (name: string, podCIDR: string, ip: string) =>
  JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name }, spec: { podCIDRs: [podCIDR] }, status: { addresses: [{ type: "InternalIP", address: ip }] } });
const descriptorOf = async (env: NetguardEnv) => {
  const cm = await getJson(env, ["configmap", "netguard-cluster-descriptor", "-n", "netguard-system"]);
  return cm ? JSON.parse(cm.data["descriptor.json"]) : undefined;
};
const policy = (name: string, cidr: string) =>
  JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: "default" }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr } }] }] } });
const dryRun = (env: NetguardEnv, name: string, cidr: string) => env.kubectl(["create", "--dry-run=server", "-f", "-"], policy(name, cidr));
const metrics = async (env: NetguardEnv) => (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;

t.test("A's leader discovers its Nodes and ServiceCIDR and publishes the descriptor", async (t) => {
  await kubectlOk(a, ["create", "-f", "-"], nodeYaml("a-node-1", "10.40.1.0/24", "10.0.0.11"));
  await kubectlOk(a, ["create", "-f", "-"], nodeYaml("a-node-2", "10.40.2.0/24", "10.0.0.12"));
  const d = await waitFor("A's descriptor with both nodes' pod ranges", async () => {
    const found = await descriptorOf(a);
    return found?.remoteCluster.podCIDRs.length === 2 ? found : undefined;
  });
  t.same(d.remoteCluster.podCIDRs, ["10.40.1.0/24", "10.40.2.0/24"]);
  t.same(d.remoteCluster.serviceCIDRs, ["10.12.0.0/20"], "from the apiserver's ServiceCIDR");
  t.same(d.remoteCluster.natSourceCIDRs, ["203.0.113.50/32"]);
  t.ok(d.remoteCluster.namespaces.includes("default"));
  t.match(d.sources, [{ source: "ServiceCIDR", state: "served", authoritative: true }], "ServiceCIDR served on Kubernetes 1.34");
  t.same(d.drift.map((x: { path: string }) => x.path), ["cluster.podCIDRs", "cluster.podCIDRs"], "the pod ranges the config leaves out are drift, and nothing else");
});

t.test("netguard describe-cluster prints a ready remoteClusters[] entry", async (t) => {
  const yaml = await runCli(["describe-cluster", "--kubeconfig", a.cluster.kubeconfig, "--config", configA]);
  t.equal(yaml.code, 0, yaml.stderr);
  t.match(yaml.stdout, /# Not discovered[\s\S]*connectivity: how traffic crosses/);
  const [entry] = parse(yaml.stdout) as Record<string, unknown>[];
  t.match(entry, { name: "cloud-a", podCIDRs: ["10.40.1.0/24", "10.40.2.0/24"], serviceCIDRs: ["10.12.0.0/20"], nodeCIDRs: ["10.0.0.0/20"] });
  const pasted = loadConfig({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: { name: "cloud-c" }, remoteClusters: [{ ...entry, connectivity: "nat" }] });
  t.ok(pasted.ok, `pasted with its connectivity, it is a valid entry: ${JSON.stringify(!pasted.ok && pasted.problems)}`);
  const unset = loadConfig({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: { name: "cloud-c" }, remoteClusters: [entry] });
  t.notOk(unset.ok, "pasted as printed, the connectivity left to declare is an error, not a guess");
  const json = await runCli(["describe-cluster", "--kubeconfig", a.cluster.kubeconfig, "--config", configA, "-o", "json"]);
  t.equal(json.code, 0, json.stderr);
  const described = JSON.parse(json.stdout);
  t.match(described, { kind: "ClusterDescriptor", remoteCluster: { name: "cloud-a" } });
  t.ok(described.discovered.some((r: { source: string; cidr: string }) => r.source === "ServiceCIDR" && r.cidr === "10.12.0.0/20"), "the whole descriptor, sources included");
  const noName = await runCli(["describe-cluster", "--kubeconfig", a.cluster.kubeconfig]);
  t.equal(noName.code, 2);
  t.match(noName.stderr, /the cluster has no name/);
});

t.test("B imports A's descriptor with a token that can read only that ConfigMap", async (t) => {
  const reader = parseAllDocuments(readFileSync(join(repoRoot, "manifests/base/rbac.yaml"), "utf8"))
    .map((d) => d.toJS())
    .find((d) => d.kind === "Role" && d.metadata.name === "netguard-descriptor-reader");
  await kubectlOk(a, ["apply", "-f", "-"], JSON.stringify(reader));
  await kubectlOk(a, ["create", "serviceaccount", "cloud-b-reader", "-n", "netguard-system"]);
  await kubectlOk(a, ["create", "rolebinding", "cloud-b-reader", "-n", "netguard-system", "--role=netguard-descriptor-reader", "--serviceaccount=netguard-system:cloud-b-reader"]);
  const as = "--as=system:serviceaccount:netguard-system:cloud-b-reader";
  t.equal((await a.kubectl(["auth", "can-i", "get", "configmaps/netguard-cluster-descriptor", "-n", "netguard-system", as])).stdout.trim(), "yes");
  for (const denied of [["get", "configmaps/netguard-peer-descriptors", "-n", "netguard-system"], ["list", "configmaps", "-n", "netguard-system"], ["get", "nodes"], ["get", "secrets", "-n", "netguard-system"]]) {
    t.equal((await a.kubectl(["auth", "can-i", ...denied, as])).stdout.trim(), "no", denied.join(" "));
  }
  const token = (await kubectlOk(a, ["create", "token", "cloud-b-reader", "-n", "netguard-system", "--duration=1h"])).trim();
  const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: cloud-a, cluster: {server: "${a.cluster.server}", certificate-authority-data: ${readFileSync(a.cluster.caFile).toString("base64")}}}]
users: [{name: cloud-b-reader, user: {token: ${token}}}]
contexts: [{name: cloud-a, context: {cluster: cloud-a, user: cloud-b-reader}}]
current-context: cloud-a
`;
  const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "cloud-a-kubeconfig", namespace: "netguard-system" }, stringData: { kubeconfig } };
  await kubectlOk(b, ["create", "-f", "-"], JSON.stringify(secret));

  const denied = await waitFor("B to deny a policy naming A's NAT-hidden pod range", async () => {
    const r = await dryRun(b, "from-a-pods", "10.40.1.0/24");
    return r.code !== 0 && r.stderr.includes("nat-hidden-cidr") ? r.stderr : undefined;
  }, 30_000, 250);
  t.match(denied, /10\.40\.1\.0\/24 lies entirely in cloud-a's pod range 10\.40\.1\.0\/24/, "the message names A's discovered range");
  const stored = await getJson(b, ["configmap", "netguard-peer-descriptors", "-n", "netguard-system"]);
  t.match(JSON.parse(stored.data["cloud-a.json"]), { descriptor: { remoteCluster: { name: "cloud-a" } }, readAt: String });
  t.ok((metricValue(await metrics(b), "netguard_descriptor_age_seconds", 'remote="cloud-a"') ?? Infinity) < 60, "the descriptor's age is exposed");
});

t.test("A gains a second pod range: B's verdict follows within one refresh", async (t) => {
  const before = await dryRun(b, "from-a-new", "10.41.0.0/24");
  t.equal(before.code, 0, `not a range of A's yet: ${before.stderr}`);
  const started = Date.now();
  await kubectlOk(a, ["create", "-f", "-"], nodeYaml("a-node-3", "10.41.0.0/24", "10.0.0.13"));
  await waitFor("B to deny the new range", async () => {
    const r = await dryRun(b, "from-a-new", "10.41.0.0/24");
    return r.code !== 0 && r.stderr.includes("nat-hidden-cidr") ? true : undefined;
  }, 30_000, 100);
  const seconds = (Date.now() - started) / 1000;
  t.comment(`A's new Node to B's denial: ${seconds.toFixed(1)} s (A publishes within 1 s, B reads every ${REFRESH_SECONDS} s)`);
  t.ok(seconds < REFRESH_SECONDS + 8, `${seconds.toFixed(1)} s: one refresh plus A's debounce and the watches`);
});

t.test("a wrong declared range in A shows up as drift: log, metric and ClusterPolicyReport", async (t) => {
  await editConfig(a, (text) => text.replace("  serviceCIDRs: [10.12.0.0/20]", "  podCIDRs: [10.40.1.0/24]\n  serviceCIDRs: [10.12.0.0/20, 10.99.0.0/16]"));
  const report = await waitFor("topology-drift in A's ClusterPolicyReport", async () => {
    const r = await getJson(a, ["clusterpolicyreport", "netguard"]);
    const drift = (r?.results ?? []).filter((x: { rule: string }) => x.rule === "topology-drift");
    return drift.length >= 3 ? drift : undefined;
  }, 40_000, 250);
  const messages = report.map((r: { message: string }) => r.message).join("\n");
  t.match(messages, /cluster\.podCIDRs: the cluster uses 10\.40\.2\.0\/24 for pod addresses \(nodes \(spec\.podCIDRs\): node\/a-node-2\)/);
  t.match(messages, /cluster\.podCIDRs: the cluster uses 10\.41\.0\.0\/24/);
  t.match(messages, /cluster\.serviceCIDRs\[1\]: cluster\.serviceCIDRs\[1\] declares 10\.99\.0\.0\/16, but no servicecidrs\.networking\.k8s\.io holds it/);
  t.match(report[0], { resources: [{ kind: "GuardrailConfig", name: "cloud-a" }], result: "warn", properties: { fix: /^(Add|Remove)/ } });
  const m = await metrics(a);
  t.equal(metricSum(m, "netguard_topology_drift", ['field="cluster.podCIDRs"']), 2);
  t.equal(metricSum(m, "netguard_topology_drift", ['field="cluster.serviceCIDRs"']), 1);
  t.match(readFileSync(a.logPath, "utf8"), /topology drift: the cluster uses 10\.40\.2\.0\/24/);
  const d = await waitFor("the republished descriptor", async () => ((await descriptorOf(a))?.drift.length >= 3 ? descriptorOf(a) : undefined));
  t.same(d.remoteCluster.serviceCIDRs, ["10.12.0.0/20"], "the range no ServiceCIDR holds is not published to peers");
  const audit = await runCli(["audit", "--kubeconfig", a.cluster.kubeconfig, "--config", a.configPath, "-o", "json"]);
  t.match(JSON.parse(audit.stdout).findings, [{ rule: "topology-drift" }], "netguard audit says the same");
});

t.test("A cannot be read any more: B keeps the last known descriptor and says so", async (t) => {
  await kubectlOk(a, ["delete", "rolebinding", "cloud-b-reader", "-n", "netguard-system"]);
  const entry = await waitFor("B to record the failed read", async () => {
    const cm = await getJson(b, ["configmap", "netguard-peer-descriptors", "-n", "netguard-system"]);
    const e = JSON.parse(cm.data["cloud-a.json"]);
    return e.error ? e : undefined;
  }, 30_000, 250);
  t.match(entry.error, /forbidden/i);
  t.ok(entry.descriptor, "the last known descriptor is kept");
  const r = await dryRun(b, "from-a-pods", "10.40.1.0/24");
  t.not(r.code, 0, "still denied while the last read is within maxAgeSeconds");
  t.ok(metricSum(await metrics(b), "netguard_descriptor_import_failures_total", ['remote="cloud-a"']) >= 1);
  const report = await waitFor("descriptor-import in B's ClusterPolicyReport", async () => {
    const rep = await getJson(b, ["clusterpolicyreport", "netguard"]);
    return (rep?.results ?? []).find((x: { rule: string }) => x.rule === "descriptor-import");
  }, 30_000, 250);
  t.match(report.message, /cloud-a's descriptor could not be read .*forbidden.*is used/i);
});
