import t from "tap";
import { evaluatePolicy, evaluatePolicyUpdate, type Finding } from "../../policies/index.js";
import { fixture, ingressFrom, ipBlock, labelledCluster, policy, stored, type Doc } from "./helpers.js";

const dead = ipBlock("10.100.0.0/16"); // aws-east's pod range, hidden by NAT
const otherDead = ipBlock("10.100.0.0/17");
const alive = ipBlock("192.0.2.0/24");
const update = (object: Doc, old: Doc): Finding[] => evaluatePolicyUpdate(stored(object), stored(old), fixture, labelledCluster).findings;
const denials = (findings: Finding[]) => findings.filter((f) => f.action === "deny");

t.test("a label change on an already flagged policy is admitted, with the finding as a warning", async (t) => {
  const old = ingressFrom([dead]);
  const relabelled = structuredClone(old) as Doc & { metadata: { labels?: Record<string, string> } };
  relabelled.metadata.labels = { team: "payments" };
  const findings = update(relabelled, old);
  t.equal(findings.length, 1);
  t.equal(findings[0]!.action, "warn");
  t.match(findings[0]!.message, /Pre-existing: the object already had this before this update/);
});

t.test("a peer that moved position is not new", async (t) => {
  t.same(denials(update(ingressFrom([alive, dead]), ingressFrom([dead, alive]))), []);
  const twoRules = policy({ ingress: [{ from: [alive] }, { from: [dead] }] });
  t.same(denials(update(twoRules, ingressFrom([dead]))), [], "moved to another rule of the same direction");
});

t.test("a new dead peer is denied, and only it", async (t) => {
  const findings = update(ingressFrom([dead, otherDead]), ingressFrom([dead]));
  t.same(denials(findings).map((f) => f.path), ["spec.ingress[0].from[1].ipBlock"]);
  t.same(denials(update(ingressFrom([dead, dead]), ingressFrom([dead]))).length, 1, "a second copy is introduced");
  t.same(denials(update(ingressFrom([otherDead]), ingressFrom([dead]))).length, 1, "a changed peer is new");
});

t.test("an invalid old object counts as having no findings", async (t) => {
  t.equal(denials(update(ingressFrom([dead]), policy({ podSelector: [] as never, ingress: [{ from: [dead] }] }))).length, 1);
});

t.test("an update is validated as the apiserver validates updates, against the stored object", async (t) => {
  const legacySelector = { matchExpressions: [{ key: "app", operator: "In", values: ["-legacy-"] }] };
  const old = stored(policy({ podSelector: legacySelector, ingress: [{ from: [alive] }] }));
  const relabelled = { ...old, metadata: { ...(old.metadata as Doc), labels: { team: "payments" } } };
  t.equal(evaluatePolicy(relabelled, fixture, labelledCluster).inputErrors.length, 1, "as a CREATE the stored selector value is invalid");
  t.same(evaluatePolicyUpdate(relabelled, old, fixture, labelledCluster).inputErrors, [], "as an UPDATE of a policy that already had it, it is not");
  const renamed = { ...old, metadata: { ...(old.metadata as Doc), name: "other" } };
  t.match(evaluatePolicyUpdate(renamed, old, fixture, labelledCluster).inputErrors, [{ path: "metadata.name", message: /immutable/ }]);
});
