/**
 * Issue 18 on a real kube-apiserver: the guarded namespace labels cannot be written around the webhooks through
 * namespaces/status or namespaces/finalize, a DELETE collection does not take the baseline, and "managed by
 * netguard" means made by netguard: a label claims nothing, a forged field manager is refused, and a policy
 * netguard did not make is never deleted, overwritten or protected by it.
 */
import { readFileSync } from "node:fs";
import t from "tap";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { httpsGet } from "../helpers/https.js";
import { ALICE_RBAC, BASELINE, baselineOf, DNS_ONLY_SPEC, getJson, kubectlOk, logLines, MANAGED } from "./controller-helpers.js";

/** A ClusterRole with these rules, bound to `user`: RBAC runs before admission, so netguard is what stops them. */
const grant = (user: string, rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: `e2e-hostile-${user}` }, rules },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `e2e-hostile-${user}` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `e2e-hostile-${user}` },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
      },
    ],
  });

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
  await kubectlOk(env, ["apply", "-f", "-"], ALICE_RBAC);
  // alice may also delete policies by collection; mallory may write namespaces only through status and finalize.
  await kubectlOk(env, ["apply", "-f", "-"], grant("alice", [{ apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["deletecollection"] }]));
  await kubectlOk(env, ["apply", "-f", "-"], grant("mallory", [
    { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list"] },
    { apiGroups: [""], resources: ["namespaces/status", "namespaces/finalize"], verbs: ["get", "update", "patch"] },
  ]));
});
t.teardown(() => env?.stop());

const baselinePresent = (ns: string) => waitFor(`the baseline in ${ns}`, () => baselineOf(env, ns));
const labelsOf = async (ns: string) => (await getJson(env, ["namespace", ns]))?.metadata.labels ?? {};
const policy = (name: string, ns: string, metadata: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns, ...metadata }, spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] } });
const metrics = async () => (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;

t.test("namespaces/status and namespaces/finalize cannot set the opt-out label or another cluster label", async (t) => {
  await kubectlOk(env, ["create", "namespace", "hs-sub"]);
  const baseline = await baselinePresent("hs-sub");

  for (const [label, rule] of [["netguard.dev/baseline=disabled", "baseline-opt-out"], ["netguard.dev/cluster=aws-east", "reserved-cluster-label"]] as const) {
    const [key, value] = label.split("=") as [string, string];
    const body = JSON.stringify({ metadata: { labels: { [key]: value } } });
    const status = await env.kubectl(["--as=mallory", "patch", "namespace", "hs-sub", "--subresource=status", "--type=merge", "-p", body]);
    t.not(status.code, 0, `status: ${label} refused`);
    t.match(status.stderr, /namespaces\.validate\.netguard\.dev/);
    t.match(status.stderr, rule);

    const ns = await getJson(env, ["namespace", "hs-sub"]);
    ns.metadata.labels[key] = value;
    const finalize = await env.kubectl(["--as=mallory", "replace", "--raw", "/api/v1/namespaces/hs-sub/finalize", "-f", "-"], JSON.stringify(ns));
    t.not(finalize.code, 0, `finalize: ${label} refused`);
    t.match(finalize.stderr, rule);
    t.equal((await labelsOf("hs-sub"))[key], key === "netguard.dev/cluster" ? "gcp-west" : undefined, `${key} unchanged`);
  }
  const harmless = await env.kubectl(["--as=mallory", "patch", "namespace", "hs-sub", "--subresource=status", "--type=merge", "-p", '{"metadata":{"labels":{"team":"blue"}}}']);
  t.equal(harmless.code, 0, `another label through status is still allowed: ${harmless.stderr}`);
  await sleep(500);
  t.equal((await baselineOf(env, "hs-sub"))?.metadata.uid, baseline.metadata.uid, "the baseline stays");
});

t.test("a DELETE collection reaches the webhook per object: the baseline stays, alice's own policy goes", async (t) => {
  await kubectlOk(env, ["create", "namespace", "hs-collection"]);
  const baseline = await baselinePresent("hs-collection");
  await kubectlOk(env, ["--as=alice", "create", "-f", "-"], policy("alice-own", "hs-collection"));
  const r = await env.kubectl(["--as=alice", "delete", "--raw", "/apis/networking.k8s.io/v1/namespaces/hs-collection/networkpolicies"]);
  t.not(r.code, 0, "the collection delete reports the refusal");
  t.match(r.stderr, /managed-baseline/);
  t.equal((await baselineOf(env, "hs-collection"))?.metadata.uid, baseline.metadata.uid, "the baseline is the same object");
  t.equal(await getJson(env, ["networkpolicy", "alice-own", "-n", "hs-collection"]), undefined, "alice's own policy was deleted");
});

t.test("a policy a user labels managed-by=netguard is neither deleted nor protected by netguard", async (t) => {
  await kubectlOk(env, ["create", "namespace", "hs-claim"]);
  await baselinePresent("hs-claim");
  await kubectlOk(env, ["--as=alice", "create", "-f", "-"], policy("looks-managed", "hs-claim", { labels: MANAGED }));
  // Any namespace event makes the controller reconcile the namespace (where it deletes stale managed policies).
  await kubectlOk(env, ["label", "namespace", "hs-claim", "touched=1"]);
  await sleep(1500);
  const kept = await getJson(env, ["networkpolicy", "looks-managed", "-n", "hs-claim"]);
  t.ok(kept, "not deleted by the controller");
  t.equal((await env.kubectl(["--as=alice", "patch", "networkpolicy", "looks-managed", "-n", "hs-claim", "--type=merge", "-p", '{"spec":{"ingress":[]}}'])).code, 0, "alice may change it");
  t.equal((await env.kubectl(["--as=alice", "delete", "networkpolicy", "looks-managed", "-n", "hs-claim"])).code, 0, "and delete it");

  // The apiserver ignores managedFields sent with a create, but stores those sent with an update as given.
  await kubectlOk(env, ["--as=alice", "create", "-f", "-"], policy("forged", "hs-claim", { labels: MANAGED }));
  const current = await getJson(env, ["networkpolicy", "forged", "-n", "hs-claim"]);
  current.metadata.managedFields = [{ manager: "netguard", operation: "Update", apiVersion: "networking.k8s.io/v1", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app.kubernetes.io/managed-by": {} } } } }];
  const forged = await env.kubectl(["--as=alice", "replace", "-f", "-"], JSON.stringify(current));
  t.not(forged.code, 0, "claiming netguard's field manager is refused");
  t.match(forged.stderr, /managed-baseline at metadata\.managedFields/);
  t.equal((await env.kubectl(["--as=alice", "delete", "networkpolicy", "forged", "-n", "hs-claim"])).code, 0, "so it stays alice's own");
});

t.test("an admin's policy under the baseline's name is never overwritten: it is reported", async (t) => {
  await kubectlOk(env, ["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "hs-clash", labels: { "netguard.dev/baseline": "disabled" } } }));
  const reserved = await env.kubectl(["--as=alice", "create", "-f", "-"], policy(BASELINE, "hs-clash"));
  t.not(reserved.code, 0, "alice may not take the baseline's name");
  t.match(reserved.stderr, /managed-baseline at metadata\.name/);

  await kubectlOk(env, ["create", "-f", "-"], policy(BASELINE, "hs-clash", { labels: { team: "platform" } }));
  const before = await getJson(env, ["networkpolicy", BASELINE, "-n", "hs-clash"]);
  await kubectlOk(env, ["label", "namespace", "hs-clash", "netguard.dev/baseline-"]);
  await waitFor("the clash to be reported", async () => (metricValue(await metrics(), "netguard_baseline_name_taken") ?? 0) >= 1);
  t.ok(logLines(env).some((l) => l.namespace === "hs-clash" && /baseline's name is taken/.test(l.msg)), "logged");
  await sleep(500);
  const after = await getJson(env, ["networkpolicy", BASELINE, "-n", "hs-clash"]);
  t.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, "not written to");
  t.same(after.metadata.labels, { team: "platform" }, "its labels kept");

  await kubectlOk(env, ["delete", "networkpolicy", BASELINE, "-n", "hs-clash"]);
  const made = await baselinePresent("hs-clash");
  t.same(made.spec, DNS_ONLY_SPEC, "once the name is free netguard creates its baseline");
  await waitFor("the clash gauge to clear", async () => metricValue(await metrics(), "netguard_baseline_name_taken") === 0);
});
