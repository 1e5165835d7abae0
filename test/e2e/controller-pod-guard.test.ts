/**
 * When the apiserver rejects the baseline: the reconciler backs off (no hot loop) and counts the
 * errors, and the optional pod guard (`serve --pod-guard`) refuses pods in the unprotected
 * namespace with a message to retry, until the baseline is in place.
 */
import { readFileSync } from "node:fs";
import t from "tap";
import { buildWebhookConfigurations, WEBHOOK_NAMES } from "../../certs/webhook-configurations.js";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { httpsGet } from "../helpers/https.js";
import { baselineOf, DNS_ONLY_SPEC, kubectlOk, logLines } from "./controller-helpers.js";

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv({ extraServeArgs: ["--pod-guard"] });
  // The Pod webhook is opt-in: registered as its own configuration next to netguard's.
  const { validating } = buildWebhookConfigurations({ caCert: readFileSync(env.caPath, "utf8"), target: { url: env.url }, podGuard: true, name: "netguard-pod-guard" });
  validating.webhooks = validating.webhooks!.filter((w) => w.name === WEBHOOK_NAMES.guardPods);
  await kubectlOk(env, ["apply", "-f", "-"], JSON.stringify(validating));
});
t.teardown(() => env?.stop());

const pod = (ns: string, name: string) =>
  JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns }, spec: { containers: [{ name: "app", image: "registry.example/app:1" }] } });
/** An in-process admission policy that refuses NetworkPolicies in namespaces labelled e2e-block=true. */
const BLOCK_POLICIES = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: e2e-block-networkpolicies}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [networking.k8s.io], apiVersions: [v1], operations: [CREATE], resources: [networkpolicies]}
  validations:
  - {expression: "false", message: "e2e: NetworkPolicies are blocked in this namespace"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: e2e-block-networkpolicies}
spec:
  policyName: e2e-block-networkpolicies
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {e2e-block: "true"}
`;
const metrics = async () => (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;

t.test("a rejected baseline write backs off, is counted, and pods wait for the baseline", async (t) => {
  // The apiserver refuses every NetworkPolicy in namespaces labelled e2e-block=true (once the policy is live).
  await kubectlOk(env, ["apply", "-f", "-"], BLOCK_POLICIES);
  await kubectlOk(env, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "pg-probe", labels: { "e2e-block": "true", "netguard.dev/baseline": "disabled" } } }));
  const probe = JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "probe", namespace: "pg-probe" }, spec: { podSelector: {} } });
  await waitFor("the blocking admission policy to be live", async () => /blocked in this namespace/.test((await env.kubectl(["create", "--dry-run=server", "-f", "-"], probe)).stderr), 30_000, 250);
  const failuresBefore = logLines(env, "baseline reconcile failed; will retry").length;
  await kubectlOk(env, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "pg-a", labels: { "e2e-block": "true" } } }));

  // The pod webhook takes effect asynchronously: retry until the guard answers.
  let attempt = 0;
  const denied = await waitFor("the pod guard to refuse a pod in pg-a", async () => {
    const r = await env.kubectl(["create", "-f", "-"], pod("pg-a", `early-${attempt++}`));
    return r.code !== 0 && /pod-guard/.test(r.stderr) ? r : undefined;
  }, 30_000, 250);
  t.match(denied.stderr, /pods\.validate\.netguard\.dev/);
  t.match(denied.stderr, /namespace pg-a is not protected yet: netguard's baseline NetworkPolicy netguard-baseline is not in place/);
  t.match(denied.stderr, /retry in a few seconds/);
  t.equal((await env.kubectl(["get", "pod", `early-${attempt - 1}`, "-n", "pg-a"])).code, 1, "no pod was created");

  await sleep(3000);
  const failures = logLines(env, "baseline reconcile failed; will retry").slice(failuresBefore).filter((l) => l.namespace === "pg-a");
  t.ok(failures.length >= 2, `the write is retried (${failures.length} attempts in ~3 s)`);
  t.ok(failures.length <= 6, "with backoff, not in a hot loop");
  t.match(failures[0]?.err, /blocked in this namespace/, "the apiserver's reason is logged");
  const delays = failures.map((f) => f.retryInMs as number);
  t.ok(delays.every((d, i) => i === 0 || d > delays[i - 1]!), `the delays grow: ${delays.join(", ")} ms`);
  t.ok((metricValue(await metrics(), "netguard_reconcile_errors_total") ?? 0) >= failures.length, "and are counted");

  await kubectlOk(env, ["label", "namespace", "pg-a", "e2e-block-"]);
  const p = await waitFor("the baseline once unblocked", () => baselineOf(env, "pg-a"), 30_000, 200);
  t.same(p.spec, DNS_ONLY_SPEC, "created on the next retry");
  const created = await env.kubectl(["create", "-f", "-"], pod("pg-a", "later"));
  t.equal(created.code, 0, `the retried pod is admitted (${created.stderr})`);
});

t.test("the guard lets pods through where it has nothing to wait for", async (t) => {
  await kubectlOk(env, ["create", "namespace", "pg-b"]);
  await waitFor("pg-b's baseline", () => baselineOf(env, "pg-b"));
  t.equal((await env.kubectl(["create", "-f", "-"], pod("pg-b", "app"))).code, 0, "a protected namespace");
  await kubectlOk(env, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "pg-c", labels: { "netguard.dev/baseline": "disabled" } } }));
  await sleep(300);
  t.equal((await env.kubectl(["create", "-f", "-"], pod("pg-c", "app"))).code, 0, "an opted-out namespace");
  t.equal((await env.kubectl(["create", "-f", "-"], pod("kube-public", "app"))).code, 0, "an exempt namespace");
  // The baseline's name taken by a policy netguard did not make: netguard leaves it alone, so waiting would never end.
  await kubectlOk(env, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "pg-d", labels: { "netguard.dev/baseline": "disabled" } } }));
  await kubectlOk(env, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "netguard-baseline", namespace: "pg-d" }, spec: { podSelector: {} } }));
  await kubectlOk(env, ["label", "namespace", "pg-d", "netguard.dev/baseline-"]);
  await sleep(300);
  const taken = await env.kubectl(["create", "-f", "-"], pod("pg-d", "app"));
  t.equal(taken.code, 0, `a namespace whose baseline name is taken: admitted (${taken.stderr})`);
  t.match(taken.stderr, /Warning: pod-guard: no baseline in pg-d: netguard did not make the NetworkPolicy netguard-baseline there and leaves it alone\n/, "with a warning that says why");
  const m = await metrics();
  t.ok((metricValue(m, "netguard_pod_guard_decisions_total", 'decision="name-taken"') ?? 0) >= 1, "decisions are counted: name-taken");
  t.ok((metricValue(m, "netguard_pod_guard_decisions_total", 'decision="protected"') ?? 0) >= 1, "decisions are counted: protected");
  t.ok((metricValue(m, "netguard_pod_guard_decisions_total", 'decision="denied"') ?? 0) >= 1, "denied");
  t.ok((metricValue(m, "netguard_pod_guard_decisions_total", 'decision="not-applicable"') ?? 0) >= 1, "not-applicable");
});
