/**
 * The cluster's cleanup of a managed baseline over HTTPS: the namespace controller and the garbage collector
 * are admitted (for webhook configurations that still send them; netguard's own never does), anyone else is
 * not, and dropping a finalizer from a baseline already being deleted is admitted for anyone.
 */
import t from "tap";
import { CLEANUP_USERS, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NETGUARD_FIELD_MANAGER } from "../../policies/index.js";
import { MULTICLOUD, networkPolicy, networkPolicyReview, startTestServer } from "./fixtures/harness.js";

// As stored after the controller wrote it: its field manager in managedFields makes it netguard's.
const labelled = networkPolicy("netguard-baseline", { podSelector: {}, policyTypes: ["Ingress"] }, { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE });
const baseline = { ...labelled, metadata: { ...labelled.metadata, managedFields: [{ manager: NETGUARD_FIELD_MANAGER, operation: "Update" }] } };
const deleting = { ...baseline, metadata: { ...baseline.metadata, deletionTimestamp: "2026-12-04T17:00:00Z", finalizers: ["example.com/backup"] } };

t.test("cleanup of a managed baseline", async (t) => {
  const { post } = await startTestServer(t, { configPath: MULTICLOUD });
  const verdict = async (body: unknown) => (await post("/validate", body)).json.response;

  for (const username of CLEANUP_USERS) {
    const response = await verdict(networkPolicyReview(baseline, { operation: "DELETE", oldObject: baseline, user: { username, groups: ["system:authenticated"] } }));
    t.equal(response.allowed, true, `${username} may delete it`);
  }
  const alice = await verdict(networkPolicyReview(baseline, { operation: "DELETE", oldObject: baseline }));
  t.equal(alice.allowed, false, "alice may not");
  t.match(alice.status.message, /managed-baseline/);

  const unheld = { ...deleting, metadata: { ...deleting.metadata, finalizers: [] } };
  t.equal((await verdict(networkPolicyReview(unheld, { operation: "UPDATE", oldObject: deleting }))).allowed, true, "alice may drop a finalizer from a baseline being deleted");
  const edited = { ...unheld, spec: { podSelector: {} } };
  t.equal((await verdict(networkPolicyReview(edited, { operation: "UPDATE", oldObject: deleting }))).allowed, false, "but not change it meanwhile");
});
