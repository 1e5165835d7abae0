/**
 * Scoped rule actions and GuardrailExceptions on a real control plane: a warn override for sandbox namespaces,
 * an exception refused to a non-privileged user and honoured once a privileged one creates it, the same verdicts
 * from `netguard check --exceptions`, and after expiresAt the denial back, the exception reported by the audit.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { parse, stringify } from "yaml";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { runCli } from "../helpers/cli.js";
import { httpsGet } from "../helpers/https.js";
import { repoRoot } from "../helpers/paths.js";
import { metricValue } from "../helpers/prometheus.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { getJson, kubectlOk } from "./controller-helpers.js";

let env: NetguardEnv;
let dir: string;
const policyText = readFileSync(join(repoRoot, "docs/examples/nat-hidden-policy.yaml"), "utf8");
const EXPIRES_IN_MS = 60_000;
const expiresAt = new Date(Date.now() + 10 * 60_000); // replaced below, once the cluster is up
const exception = (expiry: Date) => {
  const doc = parse(readFileSync(join(repoRoot, "docs/examples/guardrail-exception.yaml"), "utf8"));
  doc.spec.expiresAt = expiry.toISOString().replace(/\.\d+Z$/, "Z");
  return doc;
};

t.before(async () => {
  const config = `${readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8")}
ruleOverrides:
  - namespaceSelector: {matchLabels: {tier: sandbox}}
    rules: {nat-hidden-cidr: warn}
`;
  const tmp = join(repoRoot, ".tap", `exceptions-config-${process.pid}.yaml`);
  writeFileSync(tmp, config);
  env = await startNetguardEnv({ config: tmp, policyReportCrds: true, extraServeArgs: ["--audit-interval", "2"] });
  dir = env.cluster.dir;
  writeFileSync(join(dir, "namespaces.yaml"), ["payments:team=payments", "play:tier=sandbox", "shop:tier=prod"].map((s) => {
    const [name, label] = s.split(":");
    const [k, v] = label!.split("=");
    return stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { [k!]: v } } });
  }).join("---\n"));
  await kubectlOk(env, ["apply", "-f", join(dir, "namespaces.yaml")]);
  for (const ns of ["payments", "play", "shop"]) writeFileSync(join(dir, `policy-${ns}.yaml`), policyText.replace("name: allow-aws-east-payments", `name: allow-aws-east-payments\n  namespace: ${ns}`));
});
t.teardown(() => env?.stop());

const apply = (ns: string, as?: string) => env.kubectl(["apply", "-f", join(dir, `policy-${ns}.yaml`), ...(as ? [`--as=${as}`] : [])]);
/** `netguard check` on the same files and config the webhook judges. */
const check = (ns: string, exceptionsFile?: string) =>
  runCli(["check", "--config", env.configPath, "-o", "json", ...(exceptionsFile ? ["--exceptions", exceptionsFile] : []), join(dir, "namespaces.yaml"), join(dir, `policy-${ns}.yaml`)]);
const findings = (stdout: string) => (JSON.parse(stdout) as { findings: { rule: string; action: string; message: string; waivedBy?: string; object: { kind: string } }[] }).findings;

t.test("a warn override for sandbox namespaces: warned there, denied elsewhere, by the webhook and by check alike", async (t) => {
  const denied = await waitFor("the shop namespace's labels to reach netguard's cache", async () => {
    const r = await apply("shop");
    return r.code !== 0 && /nat-hidden-cidr/.test(r.stderr) && !/labels of namespace shop are not known/.test(r.stderr) ? r : undefined;
  });
  t.match(denied.stderr, /denied the request: netguard denied this NetworkPolicy shop\/allow-aws-east-payments/);
  const sandbox = await apply("play");
  t.equal(sandbox.code, 0, `admitted in the sandbox: ${sandbox.stderr}`);
  t.match(sandbox.stderr, /Warning: nat-hidden-cidr spec\.ingress\[0\]\.from\[0\]\.ipBlock/);

  const cliShop = await check("shop");
  t.equal(cliShop.code, 1, "check denies in shop too");
  const cliPlay = await check("play");
  t.equal(cliPlay.code, 0, "and warns in the sandbox");
  t.same(findings(cliPlay.stdout).map((f) => [f.rule, f.action]), [["nat-hidden-cidr", "warn"]]);
});

t.test("an exception: refused to a non-privileged user, honoured once a privileged one creates it", async (t) => {
  const first = await apply("payments");
  t.not(first.code, 0, "denied before any exception");
  await kubectlOk(env, ["apply", "-f", "-"], `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-alice-exceptions}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-exceptions}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-exceptions}
rules: [{apiGroups: [netguard.dev], resources: [guardrailexceptions], verbs: [get, list, create, update, delete]}]
`);
  const expiry = new Date(Date.now() + EXPIRES_IN_MS);
  expiresAt.setTime(expiry.getTime());
  const file = join(dir, "exception.yaml");
  writeFileSync(file, stringify(exception(expiry)));
  const byAlice = await env.kubectl(["apply", "-f", file, "--as=alice"]);
  t.not(byAlice.code, 0, "alice may write it by RBAC, but netguard refuses her");
  t.match(byAlice.stderr, /guardrail-exception at metadata: only system:masters may create or change a GuardrailException; alice is not among them/);
  const tooLong = await env.kubectl(["apply", "-f", "-"], JSON.stringify(exception(new Date(Date.now() + 200 * 86_400_000))));
  t.match(tooLong.stderr, /spec\.expiresAt: .* is more than 90 days ahead \(exceptions\.maxDays\)/, "an admin's exception beyond maxDays is refused");
  const badRule = await env.kubectl(["apply", "-f", "-"], JSON.stringify({ ...exception(expiry), spec: { ...exception(expiry).spec, rules: ["nat-hiden-cidr"] } }));
  t.match(badRule.stderr, /spec\.rules\[0\]: unknown rule "nat-hiden-cidr"/, "and so is a misspelt rule");

  await kubectlOk(env, ["apply", "-f", file]);
  const admitted = await waitFor("the exception to reach netguard's cache", async () => {
    const r = await apply("payments");
    return r.code === 0 ? r : undefined;
  }, 10_000);
  t.match(admitted.stderr, /Warning: nat-hidden-cidr spec\.ingress\[0\]\.from\[0\]\.ipBlock: waived by GuardrailException payments-legacy-vpn/, "with a warning naming it");

  const cli = await check("payments", file);
  t.equal(cli.code, 0, `check --exceptions admits it too: ${cli.stderr}`);
  t.same(findings(cli.stdout).map((f) => [f.rule, f.action, f.waivedBy]), [["nat-hidden-cidr", "warn", "payments-legacy-vpn"]]);
  t.equal((await check("payments")).code, 1, "and without the exception, denies");

  const report = await waitFor("the audit to mark the waived finding skip", async () => {
    const r = await getJson(env, ["policyreport", "netguard", "-n", "payments"]);
    return r?.results?.find((x: { rule: string; result: string }) => x.rule === "nat-hidden-cidr" && x.result === "skip") ? r : undefined;
  });
  t.equal(report.summary.skip, 1);
  const metrics = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
  t.equal(metricValue(metrics, "netguard_exceptions", 'state="active"'), 1);
  t.equal(metricValue(metrics, "netguard_exceptions_expiring_soon"), 1);
  t.ok((metricValue(metrics, "netguard_exception_waived_denials_total", 'rule="nat-hidden-cidr"') ?? 0) >= 1);
  const audit = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath, "-o", "json"]);
  t.match(findings(audit.stdout).find((f) => f.rule === "nat-hidden-cidr" && f.waivedBy), { action: "warn", waivedBy: "payments-legacy-vpn" }, "netguard audit honours it too");
});

t.test("after expiresAt the same policy is denied again, everywhere, and the audit reports the expired exception", async (t) => {
  const wait = expiresAt.getTime() - Date.now() + 500;
  if (wait > 0) await sleep(wait);
  await kubectlOk(env, ["delete", "networkpolicy", "allow-aws-east-payments", "-n", "payments"]);
  const again = await apply("payments");
  t.not(again.code, 0, "denied again");
  t.match(again.stderr, /GuardrailException payments-legacy-vpn expired at .* and waives nothing/);

  const cli = await check("payments", join(dir, "exception.yaml"));
  t.equal(cli.code, 1, "check --exceptions denies too");
  t.same(
    findings(cli.stdout).map((f) => [f.object.kind, f.rule, f.action]),
    [
      ["NetworkPolicy", "nat-hidden-cidr", "deny"],
      ["GuardrailException", "expired-exception", "warn"],
    ],
  );

  const cluster = await waitFor("the audit to report the expired exception", async () => {
    const r = await getJson(env, ["clusterpolicyreport", "netguard"]);
    return r?.results?.find((x: { rule: string }) => x.rule === "expired-exception");
  });
  t.equal(cluster.result, "fail");
  t.match(cluster.resources, [{ kind: "GuardrailException", name: "payments-legacy-vpn", apiVersion: "netguard.dev/v1alpha1" }]);
  const audit = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath, "-o", "json"]);
  t.equal(audit.code, 0, `netguard audit reads the exception from the cluster (a warning: the policy it covered was refused): ${audit.stderr}`);
  t.ok(findings(audit.stdout).some((f) => f.object.kind === "GuardrailException" && f.rule === "expired-exception"), "and reports it expired");
  const relabelled = await env.kubectl(["label", "guardrailexception", "payments-legacy-vpn", "reviewed=yes"]);
  t.equal(relabelled.code, 0, `an expired exception can still be relabelled: ${relabelled.stderr}`);
  const deleted = await env.kubectl(["delete", "guardrailexception", "payments-legacy-vpn"]);
  t.equal(deleted.code, 0, deleted.stderr);
});
