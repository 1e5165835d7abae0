/**
 * A cluster's whole lifecycle with kube-controller-manager running (namespace, garbage-collector and
 * service-account controllers): deleting a namespace with its baseline finishes, the garbage collector
 * may delete a baseline it owns, a namespace held in Terminating gets no baseline back, and finalizers
 * on a baseline being deleted can be dropped. netguard's webhooks fail closed, so each of these would
 * otherwise hang.
 */
import { readFileSync } from "node:fs";
import t from "tap";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { ALICE_RBAC, BASELINE, baselineOf, getJson, httpsGet, kubectlOk, logLines, metricValue, sleep, waitFor } from "./controller-helpers.js";

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
  await kubectlOk(env, ["apply", "-f", "-"], ALICE_RBAC);
});
t.teardown(() => env?.stop());

const NAMESPACE_CONTROLLER = "system:serviceaccount:kube-system:namespace-controller";
const GARBAGE_COLLECTOR = "system:serviceaccount:kube-system:generic-garbage-collector";

const baselinePresent = (ns: string) => waitFor(`the baseline in ${ns}`, () => baselineOf(env, ns));
const gone = (args: string[]) => waitFor(`${args.join(" ")} to be gone`, async () => (await getJson(env, args)) === undefined, 60_000);

/** netguard's admission decisions on the baseline of `ns` (from its log). */
const baselineDecisions = (ns: string) =>
  logLines(env, "admission decision").filter((l) => l.kind === "NetworkPolicy" && l.namespace === ns && l.name === BASELINE);

async function metrics(): Promise<{ creates: number; errors: number }> {
  const text = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
  return {
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

t.test("deleting a namespace with its baseline and a guarded policy finishes; netguard admitted the namespace controller", async (t) => {
  await kubectlOk(env, ["create", "namespace", "life-delete"]);
  await baselinePresent("life-delete");
  await kubectlOk(env, ["apply", "-f", "-"], policy("web", "life-delete"));
  const before = await metrics();

  const started = performance.now();
  const deleted = await env.kubectl(["delete", "namespace", "life-delete", "--timeout=60s"]);
  const seconds = (performance.now() - started) / 1000;
  t.equal(deleted.code, 0, `kubectl delete namespace returned: ${deleted.stderr}`);
  t.equal(await getJson(env, ["namespace", "life-delete"]), undefined, "the namespace is gone");
  t.comment(`kubectl delete namespace with a baseline and a policy: ${seconds.toFixed(1)} s`);

  const byController = baselineDecisions("life-delete").filter((l) => l.operation === "DELETE" && l.user === NAMESPACE_CONTROLLER);
  t.ok(byController.length >= 1, "the namespace controller's DELETE of the baseline went through netguard");
  t.ok(byController.every((l) => l.decision === "allowed"), "and was allowed");

  await sleep(1000);
  const after = await metrics();
  t.equal(after.creates, before.creates, "the reconciler recreated nothing in the dying namespace");
  t.equal(after.errors, before.errors, "and logged no failed reconcile for it");
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
  t.same(deleting.metadata.finalizers, ["e2e.netguard.dev/backup"], "the namespace controller's DELETE was admitted; the finalizer holds it");

  const alice = await env.kubectl(["--as=alice", "delete", "networkpolicy", BASELINE, "-n", ns, "--wait=false"]);
  t.equal(alice.code, 0, `in a terminating namespace alice's delete is admitted: ${alice.stderr}`);
  // Every update of the namespace's status requeues it in the reconciler; a config reload requeues all.
  await editConfig(env, (text) => `${text}\n# touched by lifecycle.test.ts\n`);
  await sleep(2000);
  const during = await metrics();
  t.equal(during.creates, before.creates, "no baseline create while the namespace terminates");
  t.equal(during.errors, before.errors, "no failed reconcile (no 403/409 loop)");

  const dropped = await env.kubectl(["--as=alice", "patch", "networkpolicy", BASELINE, "-n", ns, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
  t.equal(dropped.code, 0, `dropping the finalizer of a baseline being deleted is admitted: ${dropped.stderr}`);
  await gone(["networkpolicy", BASELINE, "-n", ns]);
  t.equal((await getJson(env, ["namespace", ns]))?.status?.phase, "Terminating", "the held ConfigMap still holds the namespace");

  await release(ns);
  await gone(["namespace", ns]);
  t.equal((await metrics()).creates, before.creates, "and no baseline was created until the namespace was gone");
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
  const byGc = baselineDecisions(ns).filter((l) => l.operation === "DELETE" && l.user === GARBAGE_COLLECTOR);
  t.ok(byGc.length >= 1 && byGc.every((l) => l.decision === "allowed"), "the garbage collector's DELETE went through netguard and was allowed");
});
