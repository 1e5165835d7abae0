/**
 * Audit mode and the audit scan on a real kube-apiserver: nothing is created, namespaces missing
 * their baseline and ineffective NetworkPolicies are reported as wgpolicyk8s.io PolicyReports that
 * follow the cluster's state, and `netguard audit` reports the same from outside.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { repoRoot } from "../helpers/paths.js";
import { httpsGet } from "../helpers/https.js";
import { runCli } from "../helpers/cli.js";
import { baselineOf, DNS_ONLY_SPEC, getJson, kubectlOk, logLines } from "./controller-helpers.js";

const AUDIT_INTERVAL = 2;
let env: NetguardEnv;
const scratch = mkdtempSync(join(tmpdir(), "netguard-audit-e2e-"));
t.before(async () => {
  const auditConfig = join(scratch, "config.yaml");
  writeFileSync(auditConfig, readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8").replace(/^mode: enforce$/m, "mode: audit"));
  env = await startNetguardEnv({ config: auditConfig, extraServeArgs: ["--audit-interval", String(AUDIT_INTERVAL)] });
  await kubectlOk(env, ["apply", "-f", join(repoRoot, "manifests/crds/policyreports.yaml")]);
  await kubectlOk(env, ["wait", "--for=condition=Established", "crd/policyreports.wgpolicyk8s.io", "crd/clusterpolicyreports.wgpolicyk8s.io", "--timeout=30s"]);
});
t.teardown(async () => {
  await env?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const NAT_HIDDEN = readFileSync(join(repoRoot, "docs/examples/nat-hidden-policy.yaml"), "utf8");
const POLICY = "allow-aws-east-payments";
const clusterReport = () => getJson(env, ["clusterpolicyreport", "netguard"]);
const policyReport = (ns: string) => getJson(env, ["policyreport", "netguard", "-n", ns]);
const resultsFor = (report: any, rule: string, name: string) => (report?.results ?? []).filter((r: any) => r.rule === rule && r.resources?.[0]?.name === name);
const metrics = async () => (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;

t.test("audit mode creates nothing and reports the namespace missing its baseline", async (t) => {
  await kubectlOk(env, ["create", "namespace", "aud-a"]);
  const report = await waitFor("missing-baseline for aud-a in the ClusterPolicyReport", async () => {
    const r = await clusterReport();
    return resultsFor(r, "missing-baseline", "aud-a").length === 1 ? r : undefined;
  });
  const [result] = resultsFor(report, "missing-baseline", "aud-a");
  t.match(result, {
    policy: "netguard",
    rule: "missing-baseline",
    result: "fail",
    severity: "high",
    source: "netguard",
    message: /namespace aud-a has no baseline NetworkPolicy \(netguard-baseline\)/,
    resources: [{ apiVersion: "v1", kind: "Namespace", name: "aud-a" }],
    properties: { fix: /mode: enforce/ },
  });
  t.ok(result.resources[0].uid, "the resource carries its uid");
  t.ok(report.summary.fail >= 2, "default and aud-a are both missing their baseline");
  t.same(resultsFor(report, "missing-baseline", "kube-system"), [], "exempt namespaces are not reported");
  t.equal(await baselineOf(env, "aud-a"), undefined, "no baseline was created");
  t.equal(await baselineOf(env, "default"), undefined, "none at start-up either");
  const list = await getJson(env, ["networkpolicies", "-A"]);
  t.same(list.items, [], "netguard wrote no NetworkPolicy anywhere");
  const m = await metrics();
  t.ok((metricValue(m, "netguard_namespaces", 'status="missing"') ?? 0) >= 2, "the missing count is exported");
  t.ok((metricValue(m, "netguard_audit_findings", 'rule="missing-baseline",action="deny"') ?? 0) >= 2, "findings by rule are exported");
  t.equal(metricValue(m, "netguard_baseline_writes_total", 'action="create"'), undefined, "no baseline write happened");
});

t.test("a policy admitted in audit mode shows up in its namespace's PolicyReport, and goes when fixed", async (t) => {
  const applied = await env.kubectl(["apply", "-n", "aud-a", "-f", "-"], NAT_HIDDEN);
  t.equal(applied.code, 0, "audit mode admits it");
  t.match(applied.stderr, /audit, would deny: nat-hidden-cidr/, "with a warning");

  const report = await waitFor("the PolicyReport in aud-a", async () => {
    const r = await policyReport("aud-a");
    return resultsFor(r, "nat-hidden-cidr", POLICY).length > 0 ? r : undefined;
  });
  const [result] = resultsFor(report, "nat-hidden-cidr", POLICY);
  t.match(report, { apiVersion: "wgpolicyk8s.io/v1alpha2", kind: "PolicyReport", metadata: { labels: { "app.kubernetes.io/managed-by": "netguard" } } });
  t.match(result, {
    policy: "netguard",
    result: "fail",
    severity: "high",
    message: /^spec\.ingress\[0\]\.from\[0\]\.ipBlock: /,
    resources: [{ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", name: POLICY, namespace: "aud-a" }],
    properties: { path: "spec.ingress[0].from[0].ipBlock", certainty: "provable" },
  });
  t.equal(report.summary.fail, report.results.filter((r: any) => r.result === "fail").length, "the summary counts the results");
  t.equal(report.summary.fail >= 1, true);

  // `netguard audit` from outside sees the same, with the CLI's exit codes.
  const cli = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath, "--output", "json"]);
  t.equal(cli.code, 1, `deny findings exit 1 (stderr: ${cli.stderr})`);
  t.equal(cli.stderr, "", "no progress output when stderr is not a terminal");
  const json = JSON.parse(cli.stdout);
  t.match(
    json.findings.find((f: any) => f.rule === "missing-baseline" && f.object.name === "aud-a"),
    { action: "deny", object: { kind: "Namespace", namespace: null, name: "aud-a" }, path: "metadata" },
    "missing-baseline for the namespace in audit mode",
  );
  t.match(
    json.findings.find((f: any) => f.rule === "nat-hidden-cidr"),
    { action: "deny", object: { kind: "NetworkPolicy", namespace: "aud-a", name: POLICY }, path: "spec.ingress[0].from[0].ipBlock" },
    "and the nat-hidden-cidr finding",
  );
  t.equal(json.summary.objects, 1, "one NetworkPolicy evaluated");
  const text = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath]);
  t.equal(text.code, 1);
  t.match(text.stdout, /NetworkPolicy aud-a\/allow-aws-east-payments/);
  t.match(text.stdout, /Namespace aud-a/);
  const sarif = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath, "-o", "sarif"]);
  t.equal(JSON.parse(sarif.stdout).version, "2.1.0", "SARIF too");

  // Fixed: allow what actually arrives from aws-east (its NAT source address).
  await kubectlOk(env, ["patch", "networkpolicy", POLICY, "-n", "aud-a", "--type=json", "-p", '[{"op":"replace","path":"/spec/ingress/0/from/0/ipBlock/cidr","value":"203.0.113.10/32"}]']);
  await waitFor("the PolicyReport in aud-a to be deleted", async () => (await policyReport("aud-a")) === undefined, 20_000);
  t.pass("the report is gone once its namespace has no finding");
  t.same(resultsFor(await clusterReport(), "nat-hidden-cidr", POLICY), []);
});

t.test("netguard audit: usage and access errors exit 2", async (t) => {
  const bad = await runCli(["audit", "--output", "yaml"]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--output must be one of text, json, sarif/);
  const help = await runCli(["audit", "--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: netguard audit/);
  const unreachable = join(scratch, "unreachable.kubeconfig");
  writeFileSync(unreachable, readFileSync(env.cluster.kubeconfig, "utf8").replace(/server: "https:\/\/127\.0\.0\.1:\d+"/, 'server: "https://127.0.0.1:1"'));
  const down = await runCli(["audit", "--kubeconfig", unreachable]);
  t.equal(down.code, 2);
  t.match(down.stderr, /netguard audit: cannot list objects from https:\/\/127\.0\.0\.1:1/);
  const badConfig = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", join(repoRoot, "test/fixtures/config/invalid.yaml")]);
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, /invalid config/);
});

t.test("switching to enforce creates the baselines and clears missing-baseline", async (t) => {
  await editConfig(env, (text) => text.replace(/^mode: audit$/m, "mode: enforce"));
  for (const ns of ["aud-a", "default"]) {
    const p = await waitFor(`the baseline in ${ns}`, () => baselineOf(env, ns));
    t.same(p.spec, DNS_ONLY_SPEC, `${ns}: created once enforcing`);
  }
  await waitFor("missing-baseline to leave the ClusterPolicyReport", async () => {
    const r = await clusterReport();
    return r && !(r.results ?? []).some((x: any) => x.rule === "missing-baseline");
  }, 20_000);
  t.pass("the ClusterPolicyReport no longer lists missing baselines");
  const scans = logLines(env, "audit scan");
  t.ok(scans.length >= 2, "scans are logged");
  t.match(scans[scans.length - 1], { policies: Number, namespaces: Number, findings: Number, ms: Number });
  await sleep(100);
});
