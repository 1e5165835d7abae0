/**
 * netguard registered as the webhook of a real kube-apiserver, exercised through kubectl:
 * the user's view of issue 4's guarantees.
 */
import t from "tap";
import { sleep } from "../helpers/wait.js";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
  // RBAC runs before admission: alice may manage namespaces and policies, so netguard is what stops her.
  const rbac = await env.kubectl(["apply", "-f", "-"], ALICE_RBAC);
  if (rbac.code !== 0) throw new Error(rbac.stderr);
});
t.teardown(() => env?.stop());

const ALICE_RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-editor}
rules:
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, create, update, patch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-editor-alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-editor}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
`;

const namespace = (name: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });

const policy = (name: string, ns: string, cidr: string) =>
  JSON.stringify({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: ns },
    spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ ipBlock: { cidr } }] }] },
  });

t.test("the apiserver accepted both webhook configurations", async (t) => {
  const r = await env.kubectl(["get", "validatingwebhookconfiguration,mutatingwebhookconfiguration", "-o", "name"]);
  t.match(r.stdout, /validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/netguard/);
  t.match(r.stdout, /mutatingwebhookconfiguration\.admissionregistration\.k8s\.io\/netguard/);
});

t.test("a new namespace is stamped with the cluster label, with and without labels of its own", async (t) => {
  t.equal((await env.kubectl(["create", "namespace", "stamp-plain"])).code, 0);
  t.equal((await env.kubectl(["apply", "-f", "-"], namespace("stamp-labelled", { team: "payments" }))).code, 0);
  for (const ns of ["stamp-plain", "stamp-labelled"]) {
    const r = await env.kubectl(["get", "namespace", ns, "-o", "jsonpath={.metadata.labels}"]);
    t.match(JSON.parse(r.stdout), { "netguard.dev/cluster": "gcp-west" }, ns);
  }
  const labelled = await env.kubectl(["get", "namespace", "stamp-labelled", "-o", "jsonpath={.metadata.labels.team}"]);
  t.equal(labelled.stdout, "payments", "existing labels are kept");
});

t.test("a spoofed cluster label is denied for a normal user and allowed for system:masters", async (t) => {
  const spoofed = namespace("spoof-alice", { "netguard.dev/cluster": "aws-east" });
  const denied = await env.kubectl(["--as=alice", "apply", "-f", "-"], spoofed);
  t.not(denied.code, 0);
  t.match(denied.stderr, /namespaces\.validate\.netguard\.dev/);
  t.match(denied.stderr, /reserved-cluster-label/);
  t.match(denied.stderr, /must be "gcp-west" here/);
  t.equal((await env.kubectl(["get", "namespace", "spoof-alice"])).code, 1, "nothing was created");

  const admin = await env.kubectl(["apply", "-f", "-"], namespace("spoof-admin", { "netguard.dev/cluster": "aws-east" }));
  t.equal(admin.code, 0, admin.stderr);
  const label = await env.kubectl(["get", "namespace", "spoof-admin", "-o", "jsonpath={.metadata.labels.netguard\\.dev/cluster}"]);
  t.equal(label.stdout, "aws-east", "a privileged user may set another cluster's value");
});

t.test("a provably ineffective NetworkPolicy is denied with the rule, field, reason and fix", async (t) => {
  await env.kubectl(["create", "namespace", "np-deny"]);
  const r = await env.kubectl(["apply", "-f", "-"], policy("from-aws-pods", "np-deny", "10.100.0.0/16"));
  t.not(r.code, 0);
  t.match(r.stderr, /admission webhook "networkpolicies\.validate\.netguard\.dev" denied the request/);
  t.match(r.stderr, /nat-hidden-cidr at spec\.ingress\[0\]\.from\[0\]\.ipBlock/);
  t.match(r.stderr, /aws-east's pod range 10\.100\.0\.0\/16/);
  t.match(r.stderr, /fix: .*203\.0\.113\.10\/32/);
  t.equal((await env.kubectl(["get", "networkpolicy", "from-aws-pods", "-n", "np-deny"])).code, 1, "not persisted");
});

t.test("likely findings are warnings kubectl shows, and the object is admitted", async (t) => {
  await env.kubectl(["create", "namespace", "np-warn"]);
  const r = await env.kubectl(["apply", "-f", "-"], policy("broad", "np-warn", "10.0.0.0/8"));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /Warning: .*ipblock-local-pods/);
  t.match(r.stdout, /networkpolicy\.networking\.k8s\.io\/broad created/);
});

t.test("server-side dry run gets the same decision and has no side effects", async (t) => {
  const denied = await env.kubectl(["create", "--dry-run=server", "-f", "-"], policy("dry-deny", "default", "10.100.0.0/16"));
  t.match(denied.stderr, /nat-hidden-cidr/);
  const ns = await env.kubectl(["create", "namespace", "dry-ns", "--dry-run=server", "-o", "jsonpath={.metadata.labels}"]);
  t.equal(ns.code, 0, ns.stderr);
  t.match(JSON.parse(ns.stdout), { "netguard.dev/cluster": "gcp-west" }, "the dry-run object is stamped");
  t.equal((await env.kubectl(["get", "namespace", "dry-ns"])).code, 1, "the namespace does not exist");
  const everywhere = await env.kubectl(["get", "networkpolicy", "-A", "-o", "jsonpath={.items[*].metadata.namespace}"]);
  t.equal(everywhere.code, 0, everywhere.stderr);
  t.notMatch(everywhere.stdout, /\bdry-ns\b/, "no baseline was created for it");
});

t.test("audit mode admits what enforce denies, and warns", async (t) => {
  await editConfig(env, (text) => text.replace(/^mode: enforce$/m, "mode: audit"));
  t.teardown(() => editConfig(env, (text) => text.replace(/^mode: audit$/m, "mode: enforce")));
  await env.kubectl(["create", "namespace", "np-audit"]);
  const r = await env.kubectl(["apply", "-f", "-"], policy("from-aws-pods", "np-audit", "10.100.0.0/16"));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /Warning: audit, would deny: nat-hidden-cidr/);
});

t.test("failurePolicy when netguard is down: Fail denies, Ignore admits", async (t) => {
  await env.stopNetguard();
  t.teardown(async () => {
    await env.startNetguard();
    await env.registerWebhooks();
  });
  const failed = await env.kubectl(["apply", "-f", "-"], policy("while-down", "default", "192.0.2.0/24"));
  t.not(failed.code, 0);
  t.match(failed.stderr, /failed calling webhook "networkpolicies\.validate\.netguard\.dev"/);

  await env.registerWebhooks({ failurePolicy: "Ignore" });
  let admitted;
  for (let i = 0; i < 50; i++) {
    // the apiserver picks up the new configuration asynchronously
    admitted = await env.kubectl(["apply", "-f", "-"], policy("while-down", "default", "192.0.2.0/24"));
    if (admitted.code === 0) break;
    await sleep(200);
  }
  t.equal(admitted?.code, 0, admitted?.stderr ?? "");
});
