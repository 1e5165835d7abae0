import { readFile } from "node:fs/promises";
import t from "tap";
import {
  applyJsonPatch,
  decodePatch,
  ingressFrom,
  MULTICLOUD,
  namespace,
  namespaceReview,
  networkPolicy,
  networkPolicyReview,
  startTestServer,
} from "./fixtures/harness.js";

const CONTROLLER = "system:serviceaccount:netguard-system:netguard";
const ADMIN = { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] };

t.test("Namespace guardrails", async (t) => {
  const { post } = await startTestServer(t, { configPath: MULTICLOUD, privilegedUsers: [CONTROLLER] });

  t.test("/mutate stamps the cluster label on a namespace without labels", async (t) => {
    const ns = namespace("team-a");
    const { response } = (await post("/mutate", namespaceReview(ns))).json;
    t.equal(response.allowed, true);
    t.equal(response.patchType, "JSONPatch");
    const patch = decodePatch(response.patch);
    t.same(patch, [{ op: "add", path: "/metadata/labels", value: { "netguard.dev/cluster": "gcp-west" } }]);
    t.same(applyJsonPatch(ns, patch), namespace("team-a", { "netguard.dev/cluster": "gcp-west" }));
  });

  t.test("/mutate adds the label next to existing ones, escaping '/' in the key", async (t) => {
    const ns = namespace("team-b", { team: "b", "kubernetes.io/metadata.name": "team-b" });
    const { response } = (await post("/mutate", namespaceReview(ns, { operation: "UPDATE", oldObject: ns }))).json;
    const patch = decodePatch(response.patch);
    t.same(patch, [{ op: "add", path: "/metadata/labels/netguard.dev~1cluster", value: "gcp-west" }]);
    const patched = applyJsonPatch(ns, patch);
    t.same(patched, namespace("team-b", { team: "b", "kubernetes.io/metadata.name": "team-b", "netguard.dev/cluster": "gcp-west" }));

    const again = (await post("/mutate", namespaceReview(patched as typeof ns))).json.response;
    t.same(again, { uid: again.uid, allowed: true }, "idempotent: a reinvocation returns no patch");
  });

  t.test("/mutate leaves a present label, and other kinds, alone", async (t) => {
    const foreign = (await post("/mutate", namespaceReview(namespace("x", { "netguard.dev/cluster": "aws-east" })))).json.response;
    t.notOk(foreign.patch, "a foreign value is judged by /validate, not overwritten");
    const policy = (await post("/mutate", networkPolicyReview(networkPolicy("p", ingressFrom("10.0.0.0/8"))))).json.response;
    t.same(policy, { uid: policy.uid, allowed: true });
  });

  t.test("setting the cluster label to another cluster is denied for ordinary users", async (t) => {
    const { response } = (await post("/validate", namespaceReview(namespace("spoof", { "netguard.dev/cluster": "aws-east" })))).json;
    t.equal(response.allowed, false);
    t.equal(response.status.code, 403);
    t.match(response.status.message, /^netguard denied this Namespace spoof \(1 finding\):\n\(1\) reserved-cluster-label at metadata\.labels\["netguard\.dev\/cluster"\]: /);
    t.match(response.status.message, 'must be "gcp-west" here');
  });

  t.test("the local value, or no label, is fine", async (t) => {
    for (const ns of [namespace("ok", { "netguard.dev/cluster": "gcp-west" }), namespace("bare")]) {
      const { response } = (await post("/validate", namespaceReview(ns))).json;
      t.same(response, { uid: response.uid, allowed: true }, ns.metadata.name);
    }
  });

  t.test("privileged groups and users may set reserved labels", async (t) => {
    const spoof = namespace("mirror", { "netguard.dev/cluster": "aws-east", "netguard.dev/baseline": "disabled" });
    const admin = (await post("/validate", namespaceReview(spoof, { user: ADMIN }))).json.response;
    t.equal(admin.allowed, true, "system:masters");
    const controller = (await post("/validate", namespaceReview(spoof, { user: { username: CONTROLLER, groups: ["system:serviceaccounts"] } }))).json.response;
    t.equal(controller.allowed, true, "the configured privileged user");
    const other = (await post("/validate", namespaceReview(spoof, { user: { username: "system:serviceaccount:ci:deployer", groups: ["system:serviceaccounts"] } }))).json.response;
    t.equal(other.allowed, false, "another service account is not");
    t.match(other.status.message, "(2 findings)");
    t.match(other.status.message, "baseline-opt-out at metadata.labels[\"netguard.dev/baseline\"]");
  });

  t.test("managed baseline policies: UPDATE and DELETE are reserved for privileged users", async (t) => {
    const labelled = networkPolicy("netguard-baseline", { podSelector: {}, policyTypes: ["Ingress"], ingress: [] }, { "app.kubernetes.io/managed-by": "netguard" });
    // As the apiserver sends it: written by netguard's field manager.
    const baseline = { ...labelled, metadata: { ...labelled.metadata, managedFields: [{ manager: "netguard", operation: "Update" }] } };
    const edited = { ...baseline, spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] } };

    const update = (await post("/validate", networkPolicyReview(edited, { operation: "UPDATE", oldObject: baseline }))).json.response;
    t.equal(update.allowed, false);
    t.match(update.status.message, "managed-baseline at metadata: this NetworkPolicy is managed by netguard (the namespace baseline) and cannot be changed by alice");

    const del = (await post("/validate", networkPolicyReview(baseline, { operation: "DELETE", oldObject: baseline }))).json.response;
    t.equal(del.allowed, false);
    t.match(del.status.message, "cannot be deleted by alice");

    for (const user of [ADMIN, { username: CONTROLLER }]) {
      const res = (await post("/validate", networkPolicyReview(baseline, { operation: "DELETE", oldObject: baseline, user }))).json.response;
      t.equal(res.allowed, true, `${user.username} may delete it`);
      const upd = (await post("/validate", networkPolicyReview(edited, { operation: "UPDATE", oldObject: baseline, user }))).json.response;
      t.equal(upd.allowed, true, `${user.username} may repair it`);
    }

    const forged = (await post("/validate", networkPolicyReview({ ...baseline, metadata: { ...baseline.metadata, name: "mine" } }))).json.response;
    t.equal(forged.allowed, false, "alice may not create a policy that claims netguard's field manager");
    t.match(forged.status.message, "managed-baseline at metadata.managedFields");
    const labelledOnly = (await post("/validate", networkPolicyReview({ ...labelled, metadata: { ...labelled.metadata, name: "mine" } }))).json.response;
    t.equal(labelledOnly.allowed, true, "the label alone claims nothing");
    const reserved = (await post("/validate", networkPolicyReview(labelled))).json.response;
    t.equal(reserved.allowed, false, "nor take the baseline's name");
    t.match(reserved.status.message, "managed-baseline at metadata.name");
    const asAdmin = (await post("/validate", networkPolicyReview(labelled, { user: ADMIN }))).json.response;
    t.equal(asAdmin.allowed, true, "an admin may");
  });
});

t.test("audit mode reports namespace guardrails instead of denying", async (t) => {
  const text = (await readFile(MULTICLOUD, "utf8")).replace("mode: enforce", "mode: audit");
  const { post } = await startTestServer(t, { configText: text });
  const { response } = (await post("/validate", namespaceReview(namespace("spoof", { "netguard.dev/cluster": "aws-east" })))).json;
  t.equal(response.allowed, true);
  t.match(response.warnings[0], /^audit, would deny: reserved-cluster-label metadata\.labels\["netguard\.dev\/cluster"\]/);
  t.match(response.auditAnnotations, { "reserved-cluster-label": /"netguard\.dev\/cluster" is reserved/ });
});
