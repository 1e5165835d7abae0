import t from "tap";
import { defaultConfig } from "../../../policies/index.js";
import { egressTo, findingsOf, ingressFrom, only, policy, silentFor, withScope } from "../helpers.js";

const RULE = "unsatisfiable-selector";
const silent = silentFor(RULE);

t.test("spec.podSelector that contradicts itself: the policy selects no pod", async (t) => {
  const p = policy({
    podSelector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "app", operator: "In", values: ["api"] }] },
    ingress: [{ from: [{ podSelector: {} }] }],
  });
  const f = only(RULE, p);
  t.equal(f.rule, RULE);
  t.equal(f.action, "deny");
  t.equal(f.certainty, "provable");
  t.equal(f.path, "spec.podSelector");
  t.match(f.message, 'the requirements on "app" contradict each other, so this policy selects no pod and has no effect.');
  t.match(f.fix, /agree on each key/);
  t.ok(only(RULE, p, defaultConfig()), "independent of topology");
});

t.test("peer selectors that contradict themselves", async (t) => {
  const ns = only(RULE, ingressFrom([{ namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists" }, { key: "team", operator: "DoesNotExist" }] } }]));
  t.equal(ns.path, "spec.ingress[0].from[0].namespaceSelector");
  t.match(ns.message, '"team" contradict each other, so this peer matches nothing.');
  t.match(ns.message, "No peer of spec.ingress[0] can match");
  t.match(ns.fix, /an empty `from` allows all traffic/);

  const pod = only(RULE, egressTo([{ podSelector: { matchLabels: { app: "db" }, matchExpressions: [{ key: "app", operator: "DoesNotExist" }] } }]));
  t.equal(pod.path, "spec.egress[0].to[0].podSelector");
  t.match(pod.fix, /an empty `to` allows all traffic/);

  const disjoint = only(RULE, ingressFrom([{ podSelector: {} }, { podSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["a"] }, { key: "tier", operator: "In", values: ["b"] }] } }]));
  t.equal(disjoint.path, "spec.ingress[0].from[1].podSelector");
  t.notMatch(disjoint.message, /No peer of/, "the other peer still matches");

  const covering = only(RULE, ingressFrom([{ namespaceSelector: { matchExpressions: [{ key: "env", operator: "In", values: ["dev", "prod"] }, { key: "env", operator: "NotIn", values: ["prod", "dev"] }] } }]));
  t.match(covering.message, '"env"');
});

t.test("both selectors of one peer can be reported", async (t) => {
  const dead = { matchExpressions: [{ key: "x", operator: "Exists" }, { key: "x", operator: "DoesNotExist" }] };
  const found = findingsOf(RULE, ingressFrom([{ namespaceSelector: dead, podSelector: dead }]));
  t.same(found.map((f) => f.path), ["spec.ingress[0].from[0].namespaceSelector", "spec.ingress[0].from[0].podSelector"]);
});

t.test("satisfiable selectors are silent", async (t) => {
  t.ok(silent(policy({ podSelector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["a"] }] } })), "NotIn alone");
  t.ok(silent(ingressFrom([{ podSelector: { matchExpressions: [{ key: "app", operator: "DoesNotExist" }, { key: "app", operator: "NotIn", values: ["a"] }] } }])));
  t.ok(silent(ingressFrom([{ podSelector: { matchLabels: { app: "a" }, matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }] } }])));
  t.ok(silent(ingressFrom([{ namespaceSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }, { key: "app", operator: "NotIn", values: ["a"] }] } }])));
  t.ok(silent(ingressFrom([{ namespaceSelector: {} }])));
});

t.test("reported whatever the policyScope", async (t) => {
  const mesh = withScope("cilium-clustermesh");
  t.ok(only(RULE, ingressFrom([{ podSelector: { matchLabels: { a: "1" }, matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] } }]), mesh));
});
