/**
 * A cluster's whole lifecycle with kube-controller-manager running (namespace, garbage-collector and
 * service-account controllers): deleting a namespace with its baseline finishes, the garbage collector
 * may delete a baseline it owns, a namespace held in Terminating gets no baseline back, and finalizers
 * on a baseline being deleted can be dropped. netguard's webhooks fail closed, so each of these would
 * otherwise hang.
 */
import { readFileSync } from "node:fs";
import t, { type Test } from "tap";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { httpsGet } from "../helpers/https.js";
import { ALICE_RBAC, BASELINE, baselineOf, getJson, kubectlOk, logLines } from "./controller-helpers.js";

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
  await kubectlOk(env, ["apply", "-f", "-"], ALICE_RBAC);
});
t.teardown(() => env?.stop());


const baselinePresent = (ns: string) => waitFor(`the baseline in ${ns}`, () => baselineOf(env, ns));
const gone = (args: string[]) => waitFor(`${args.join(" ")} to be gone`, async () => (await getJson(env, args)) === undefined, 60_000);

/** netguard's admission decisions on the baseline of `ns` (from its log). */
const baselineDecisions = (ns: string) =>
  logLines(env, "admission decision").filter((l) => l.kind === "NetworkPolicy" && l.namespace === ns && l.name === BASELINE);

/**
 * Writes, counted where they land: NetworkPolicy creates the apiserver was asked for (whatever it answered, so a
 * create refused with 403 "being terminated" counts too), and netguard's own counters.
 */
async function metrics(): Promise<{ posts: number; creates: number; errors: number }> {
  const apiserver = await kubectlOk(env, ["get", "--raw", "/metrics"]);
  const posts = apiserver
    .split("\n")
    .filter((l) => l.startsWith("apiserver_request_total{") && l.includes('resource="networkpolicies"') && l.includes('verb="POST"'))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
  const text = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
  return {
    posts,
    creates: metricValue(text, "netguard_baseline_writes_total", 'action="create"') ?? 0,
    errors: metricValue(text, "netguard_reconcile_errors_total") ?? 0,
  };
}

const policy = (name: string, ns: string) =>
  JSON.stringify({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: ns },
    spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "api" } } }] }] },
  });

/** A ConfigMap whose finalizer nobody removes: it keeps its namespace Terminating until the test lets go. */
const holder = (ns: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "hold", namespace: ns, finalizers: ["e2e.netguard.dev/hold"] } });
const release = (ns: string) => kubectlOk(env, ["patch", "configmap", "hold", "-n", ns, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);

t.test("the harness runs kube-controller-manager: a new namespace gets its default ServiceAccount", async (t) => {
  await kubectlOk(env, ["create", "namespace", "life-sa"]);
  const sa = await waitFor<any>("default ServiceAccount", () => getJson(env, ["serviceaccount", "default", "-n", "life-sa"]));
  t.equal(sa.metadata.name, "default");
});

async function deleteNamespace(t: Test, ns: string): Promise<void> {
  const started = performance.now();
  const deleted = await env.kubectl(["delete", "namespace", ns, "--timeout=60s"]);
  const seconds = (performance.now() - started) / 1000;
  t.equal(deleted.code, 0, `kubectl delete namespace returned: ${deleted.stderr}`);
  t.equal(await getJson(env, ["namespace", ns]), undefined, "the namespace is gone");
  t.comment(`kubectl delete namespace ${ns} (a baseline and a policy in it): ${seconds.toFixed(1)} s`);
}

t.test("deleting a namespace with its baseline and a guarded policy finishes; the reconciler writes nothing meanwhile", async (t) => {
  await kubectlOk(env, ["create", "namespace", "life-delete"]);
  await baselinePresent("life-delete");
  await kubectlOk(env, ["apply", "-f", "-"], policy("web", "life-delete"));
  const before = await metrics();
  await deleteNamespace(t, "life-delete");
  t.same(baselineDecisions("life-delete").filter((l) => l.decision === "denied"), [], "netguard denied nothing on the way");
  await sleep(1000);
  const after = await metrics();
  t.comment(`NetworkPolicy creates asked of the apiserver while the namespace was deleted: ${after.posts - before.posts}`);
  // At most one: the baseline's delete event can reach the reconciler before the namespace's deletionTimestamp
  // (two watches, no order between them); that create is refused and not retried.
  t.ok(after.posts - before.posts <= 1, "the reconciler tried at most once to recreate the baseline");
  t.equal(after.creates, before.creates, "and created nothing");
  t.equal(after.errors, before.errors, "and no reconcile failed");
});

t.test("deleting a namespace finishes while netguard is down (the cluster's cleanup is never sent to it)", async (t) => {
  await kubectlOk(env, ["create", "namespace", "life-down"]);
  await baselinePresent("life-down");
  await kubectlOk(env, ["apply", "-f", "-"], policy("web", "life-down"));
  await env.stopNetguard();
  try {
    const refused = await env.kubectl(["--as=alice", "label", "networkpolicy", "web", "-n", "life-down", "team=a"]);
    t.match(refused.stderr, /failed calling webhook/, "netguard is down and its webhook fails closed");
    await deleteNamespace(t, "life-down");
  } finally {
    await env.startNetguard();
  }
});

t.test("a namespace held in Terminating: no baseline comes back; anyone's delete there and dropping a finalizer are admitted", async (t) => {
  const ns = "life-held";
  await kubectlOk(env, ["create", "namespace", ns]);
  await baselinePresent(ns);
  await kubectlOk(env, ["apply", "-f", "-"], holder(ns));
  // A finalizer of another tool on the baseline (set by an admin): it keeps the baseline while it is deleted.
  await kubectlOk(env, ["patch", "networkpolicy", BASELINE, "-n", ns, "--type=merge", "-p", '{"metadata":{"finalizers":["e2e.netguard.dev/backup"]}}']);
  const refused = await env.kubectl(["--as=alice", "delete", "networkpolicy", BASELINE, "-n", ns, "--wait=false"]);
  t.match(refused.stderr, /managed-baseline/, "before the namespace is deleted, alice may not delete the baseline");
  const before = await metrics();

  await kubectlOk(env, ["delete", "namespace", ns, "--wait=false"]);
  const deleting = await waitFor("the baseline to be marked deleted", async () => {
    const p = await baselineOf(env, ns);
    return p?.metadata.deletionTimestamp ? p : undefined;
  });
  t.same(deleting.metadata.finalizers, ["e2e.netguard.dev/backup"], "the namespace controller deleted it; the finalizer holds it");
  const marked = await metrics();

  const alice = await env.kubectl(["--as=alice", "delete", "networkpolicy", BASELINE, "-n", ns, "--wait=false"]);
  t.equal(alice.code, 0, `in a terminating namespace alice's delete is admitted: ${alice.stderr}`);
  // Every update of the namespace's status requeues it in the reconciler; a config reload requeues all.
  await editConfig(env, (text) => `${text}\n# touched by lifecycle.test.ts\n`);
  await sleep(2000);
  const during = await metrics();
  t.equal(during.posts, marked.posts, "no create asked of the apiserver while the namespace terminates");
  t.equal(during.errors, before.errors, "no failed reconcile (no 403/409 loop)");

  const dropped = await env.kubectl(["--as=alice", "patch", "networkpolicy", BASELINE, "-n", ns, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
  t.equal(dropped.code, 0, `dropping the finalizer of a baseline being deleted is admitted: ${dropped.stderr}`);
  await gone(["networkpolicy", BASELINE, "-n", ns]);
  t.equal((await getJson(env, ["namespace", ns]))?.status?.phase, "Terminating", "the held ConfigMap still holds the namespace");

  await release(ns);
  await gone(["namespace", ns]);
  const end = await metrics();
  t.equal(end.posts, marked.posts, "none after the baseline was gone either");
  t.equal(end.creates, before.creates, "and netguard created no baseline until the namespace was gone");
});

t.test("the garbage collector may delete a baseline an admin made dependent on another object; the reconciler restores it", async (t) => {
  const ns = "life-gc";
  await kubectlOk(env, ["create", "namespace", ns]);
  const original = await baselinePresent(ns);
  await kubectlOk(env, ["create", "configmap", "owner", "-n", ns]);
  const owner = await getJson(env, ["configmap", "owner", "-n", ns]);
  const ownerReferences = [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid }];
  await kubectlOk(env, ["patch", "networkpolicy", BASELINE, "-n", ns, "--type=merge", "-p", JSON.stringify({ metadata: { ownerReferences } })]);

  await kubectlOk(env, ["delete", "configmap", "owner", "-n", ns]);
  const restored = await waitFor("the baseline to be collected and recreated", async () => {
    const p = await baselineOf(env, ns);
    return p && p.metadata.uid !== original.metadata.uid ? p : undefined;
  }, 60_000);
  t.notOk(restored.metadata.ownerReferences, "recreated by netguard, owned by nobody");
});
