/**
 * The baseline as the real kube-apiserver stores it, for several `baseline.dns` shapes: netguard's
 * comparison must see it as what it wrote, or the reconciler rewrites it on every pass and the
 * audit reports it missing for ever.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { parse } from "yaml";
import { baselineDrifted, buildBaselinePolicy, canonicalJson, loadConfig, type GuardrailConfig, type NetworkPolicy } from "../../policies/index.js";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { repoRoot } from "../helpers/paths.js";
import { httpsGet } from "../helpers/https.js";
import { runCli } from "../helpers/cli.js";
import { baselineOf, getJson, kubectlOk } from "./controller-helpers.js";

const MULTICLOUD = readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8");

/** `baseline:` sections, each stored by the apiserver in a form that differs from what netguard sends. */
const SHAPES: Record<string, string> = {
  "empty matchLabels and matchExpressions": `
baseline:
  dns:
    namespaceSelector: {matchLabels: {}, matchExpressions: []}
    podSelector: {matchLabels: {k8s-app: kube-dns}, matchExpressions: []}
`,
  "Exists with empty values": `
baseline:
  dns:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
    podSelector:
      matchExpressions: [{key: k8s-app, operator: Exists, values: []}]
    ports: [{protocol: TCP, port: 53}]
`,
  "In expressions, an empty podSelector, ports on one protocol": `
baseline:
  dns:
    namespaceSelector:
      matchLabels: {}
      matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [kube-system, dns]}]
    podSelector: {}
    ports: [{port: 53}, {port: 5353}]
`,
  "ingress-only isolation (egress: allow-all)": `
baseline:
  egress: allow-all
  dns:
    podSelector: {matchLabels: {}}
`,
};

function configOf(shape: string): GuardrailConfig {
  const result = loadConfig(parse(MULTICLOUD + shape));
  if (!result.ok) throw new Error(`shape is not a valid config: ${JSON.stringify(result.problems)}`);
  return result.loaded.config;
}

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
});
t.teardown(() => env?.stop());

t.test("what the apiserver stores is what netguard builds, for every shape", async (t) => {
  await kubectlOk(env, ["create", "namespace", "stored-shapes"]);
  let i = 0;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const desired = buildBaselinePolicy("stored-shapes", configOf(shape));
    // Under another name and without the managed label, so that the reconciler leaves it alone.
    const body = { ...desired, metadata: { ...desired.metadata, name: `shape-${++i}`, labels: {} } };
    await kubectlOk(env, ["create", "-f", "-"], JSON.stringify(body));
    const stored = (await getJson(env, ["networkpolicy", `shape-${i}`, "-n", "stored-shapes"])) as NetworkPolicy;
    t.not(canonicalJson(stored.spec), canonicalJson(desired.spec), `${name}: the apiserver stores it differently`);
    t.notOk(baselineDrifted({ metadata: desired.metadata, spec: stored.spec }, desired), `${name}: no drift`);
    const other = structuredClone(desired);
    other.spec.policyTypes = ["Ingress"];
    delete other.spec.egress;
    if (desired.spec.egress) t.ok(baselineDrifted({ metadata: desired.metadata, spec: stored.spec }, other), `${name}: a real difference is still drift`);
  }
});

async function repairs(): Promise<number> {
  const text = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
  return metricValue(text, "netguard_baseline_writes_total", 'action="repair"') ?? 0;
}

t.test("the reconciler writes each shape once and never rewrites it; the audit sees it in place", async (t) => {
  const ns = "stored-reconciled";
  await kubectlOk(env, ["create", "namespace", ns]);
  await waitFor(`the baseline in ${ns}`, () => baselineOf(env, ns));
  let round = 0;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const desired = buildBaselinePolicy(ns, configOf(shape));
    await editConfig(env, () => MULTICLOUD + shape);
    const written = (await waitFor(`${name}: the baseline rewritten to this shape`, async () => {
      const current = (await baselineOf(env, ns)) as NetworkPolicy | undefined;
      return current && !baselineDrifted(current, desired) ? current : undefined;
    })) as NetworkPolicy & { metadata: { generation: number } };
    const before = await repairs();

    // More passes over the namespace: a config reload re-checks every namespace, a label change this one.
    // A namespace created after them gets its baseline once the queue has reached it.
    await editConfig(env, (text) => `${text}\n# pass ${++round}\n`);
    await kubectlOk(env, ["label", "namespace", ns, `pass=${round}`, "--overwrite"]);
    const sentinel = `stored-sentinel-${round}`;
    await kubectlOk(env, ["create", "namespace", sentinel]);
    await waitFor(`the baseline in ${sentinel}`, () => baselineOf(env, sentinel));
    await sleep(1000);

    const after = (await baselineOf(env, ns)) as NetworkPolicy & { metadata: { generation: number } };
    t.equal(after.metadata.generation, written.metadata.generation, `${name}: the stored baseline was not rewritten`);
    t.equal(await repairs(), before, `${name}: no repair counted`);

    const audit = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath, "--output", "json"]);
    const findings = (JSON.parse(audit.stdout) as { findings: { rule: string; object: { name: string } }[] }).findings;
    t.notOk(
      findings.some((f) => f.rule === "missing-baseline" && f.object.name === ns),
      `${name}: the audit finds the baseline in place`,
    );
  }
});
