import t from "tap";
import { activeRules, evaluatePolicy, rules } from "../../policies/index.js";
import { natHiddenCidr } from "../../policies/rules/nat-hidden-cidr.js";
import type { Rule } from "../../policies/rules/rule.js";
import { NO_PEER_SENTENCE, egressTo, evaluate, fixture, ingressFrom, ipBlock, multicloud, multicloudFullyDeclared, policy } from "./helpers.js";

const KEY = "netguard.dev/cluster";

t.test("the registry holds the ten rules of DESIGN.md §5 with their kinds", async (t) => {
  const kinds = Object.fromEntries(rules.map((r) => [r.id, [r.certainty, r.defaultAction]]));
  t.same(kinds, {
    "remote-cluster-selector": ["provable", "deny"],
    "nat-hidden-cidr": ["provable", "deny"],
    "empty-ipblock": ["provable", "deny"],
    "unsatisfiable-selector": ["provable", "deny"],
    "named-port-to-cidr": ["provable", "deny"],
    "partially-hidden-cidr": ["likely", "warn"],
    "ambiguous-remote-cidr": ["likely", "warn"],
    "pinned-remote-pod-ip": ["likely", "warn"],
    "remote-namespace-name": ["likely", "warn"],
    "ipblock-local-pods": ["likely", "warn"],
  });
  for (const r of rules) t.ok(r.title.length > 0, `${r.id} has a title`);
});

t.test("activeRules honours actions and policyScope", async (t) => {
  t.equal(activeRules(fixture).length, 10);
  const tuned = multicloud((d) => (d.rules = { "nat-hidden-cidr": "warn", "ipblock-local-pods": "off" }));
  const actions = Object.fromEntries(activeRules(tuned).map(({ rule, action }) => [rule.id, action]));
  t.equal(actions["nat-hidden-cidr"], "warn");
  t.notOk("ipblock-local-pods" in actions);
  const mesh = multicloud((d) => ((d.cluster as Record<string, unknown>).policyScope = "calico-federation"));
  const ids = activeRules(mesh).map(({ rule }) => rule.id);
  t.notOk(ids.includes("remote-cluster-selector"));
  t.notOk(ids.includes("remote-namespace-name"));
  t.ok(ids.includes("nat-hidden-cidr"));
  t.equal(ids.length, 8);
});

t.test("per-rule action: off suppresses, warn downgrades", async (t) => {
  const p = ingressFrom([ipBlock("10.100.0.0/16")]);
  t.same(evaluate(p).findings.map((f) => [f.rule, f.action]), [["nat-hidden-cidr", "deny"]]);
  const warned = evaluate(p, multicloud((d) => (d.rules = { "nat-hidden-cidr": "warn" }))).findings;
  t.same(warned.map((f) => [f.rule, f.action, f.certainty]), [["nat-hidden-cidr", "warn", "provable"]]);
  t.same(evaluate(p, multicloud((d) => (d.rules = { "nat-hidden-cidr": "off" }))).findings, []);
  const likelyOff = ingressFrom([ipBlock("10.9.0.0/16")]);
  t.equal(evaluate(likelyOff).findings.length, 1);
  t.same(evaluate(likelyOff, multicloud((d) => (d.rules = { "ipblock-local-pods": "off" }))).findings, []);
});

t.test("a rule whose every peer is provably dead says so plainly", async (t) => {
  const p = ingressFrom([ipBlock("10.100.0.0/16"), { namespaceSelector: { matchLabels: { [KEY]: "aws-east" } } }]);
  // Offline: in a cluster, kube-system could take the aws-east label later, and remote-cluster-selector only warns.
  const { findings } = evaluate(p, fixture, { origin: "offline" });
  t.same(findings.map((f) => f.rule).sort(), ["nat-hidden-cidr", "remote-cluster-selector"]);
  for (const f of findings) {
    t.match(f.message, `${NO_PEER_SENTENCE("spec.ingress[0]")}, so that rule allows nothing: the selected pods stay isolated and the traffic it meant to allow will be dropped.`);
  }
});

t.test("the sentence is absent when one peer can match", async (t) => {
  const p = ingressFrom([ipBlock("10.100.0.0/16"), { namespaceSelector: { matchLabels: { [KEY]: "aws-east" } } }, ipBlock("203.0.113.10/32")]);
  const { findings } = evaluate(p);
  t.equal(findings.length, 2);
  for (const f of findings) t.notMatch(f.message, /No peer of/);
});

t.test("the sentence is per rule: the dead rule is named, the live one is not", async (t) => {
  const p = policy({
    ingress: [{ from: [ipBlock("10.100.0.0/16"), { podSelector: {} }] }, { from: [ipBlock("fd00:100::/64")] }],
    egress: [{ to: [ipBlock("10.101.0.0/20")] }],
  });
  const byPath = Object.fromEntries(evaluate(p, multicloudFullyDeclared).findings.map((f) => [f.path, f.message]));
  t.same(Object.keys(byPath), ["spec.egress[0].to[0].ipBlock", "spec.ingress[0].from[0].ipBlock", "spec.ingress[1].from[0].ipBlock"]);
  t.notMatch(byPath["spec.ingress[0].from[0].ipBlock"], /No peer of/);
  t.match(byPath["spec.ingress[1].from[0].ipBlock"], NO_PEER_SENTENCE("spec.ingress[1]"));
  t.match(byPath["spec.egress[0].to[0].ipBlock"], NO_PEER_SENTENCE("spec.egress[0]"));
});

t.test("likely findings do not make a peer dead", async (t) => {
  // partially-hidden (likely) + nat-hidden (provable): one peer still may match.
  const p = ingressFrom([ipBlock("10.100.0.0/16"), ipBlock("10.100.0.0/15")]);
  const { findings } = evaluate(p);
  t.same(findings.map((f) => f.rule), ["nat-hidden-cidr", "partially-hidden-cidr"]);
  for (const f of findings) t.notMatch(f.message, /No peer of/);
});

t.test("a downgraded provable rule still proves the peer dead; a turned-off one does not", async (t) => {
  const p = ingressFrom([ipBlock("10.100.0.0/16")]);
  t.match(evaluate(p, multicloud((d) => (d.rules = { "nat-hidden-cidr": "warn" }))).findings[0]?.message, /No peer of/);
  const both = ingressFrom([ipBlock("10.100.0.0/16"), { namespaceSelector: { matchLabels: { [KEY]: "aws-east" } } }]);
  const { findings } = evaluate(both, multicloud((d) => (d.rules = { "nat-hidden-cidr": "off" })));
  t.same(findings.map((f) => f.rule), ["remote-cluster-selector"]);
  t.notMatch(findings[0]?.message, /No peer of/);
});

t.test("empty and absent peer lists allow all: nothing to flag", async (t) => {
  t.same(evaluate(policy({ ingress: [{}], egress: [{ to: [] }] })).findings, []);
  t.same(evaluate(policy({ ingress: [] })).findings, []);
});

t.test("every finding has the contract's fields", async (t) => {
  const p = policy({
    podSelector: { matchLabels: { a: "1" }, matchExpressions: [{ key: "a", operator: "DoesNotExist" }] },
    ingress: [{ from: [ipBlock("10.100.0.0/16"), ipBlock("10.100.0.0/15"), ipBlock("10.200.0.1/32"), ipBlock("10.9.0.0/16")] }],
    egress: [{ to: [ipBlock("192.0.2.0/24", ["192.0.2.0/25", "192.0.2.128/25"])], ports: [{ port: "https" }] }],
  });
  const { findings } = evaluate(p);
  t.ok(findings.length >= 6);
  for (const f of findings) {
    t.ok(f.rule && f.path && f.message && f.fix, `${f.rule} at ${f.path} is complete`);
    t.ok(f.action === "deny" || f.action === "warn");
    t.ok(f.path.startsWith("spec."), f.path);
    t.notMatch(f.fix, /remove (the|all) (from|to) entries|leave `?(from|to)`? empty/i, "never suggests an empty from/to");
  }
});

t.test("finding order is stable: by path in document order, then registry order", async (t) => {
  const ingress = Array.from({ length: 12 }, (_, i) => ({ from: [i === 2 || i === 10 ? ipBlock("10.100.0.0/16") : { podSelector: {} }] }));
  const p = policy({
    ingress,
    egress: [{ to: [ipBlock("10.200.0.1/32")] }],
  });
  const once = evaluate(p).findings;
  t.same(
    once.map((f) => f.path),
    ["spec.egress[0].to[0].ipBlock", "spec.ingress[2].from[0].ipBlock", "spec.ingress[10].from[0].ipBlock"],
    "index 2 comes before index 10",
  );
  t.same(evaluate(p).findings, once, "same input, same findings");
  t.same(evaluate(p, fixture, {}, [...rules].reverse()).findings, once, "independent of the order rules run in");

  // Same path, several rules: registry order (ambiguous-remote-cidr before ipblock-local-pods).
  const overlapping = multicloud((d) => ((d.remoteClusters as Record<string, unknown>[])[1]!.podCIDRs = ["10.8.0.0/16"]));
  t.same(
    evaluate(ingressFrom([ipBlock("10.8.0.0/16")]), overlapping).findings.map((f) => f.rule),
    ["ambiguous-remote-cidr", "ipblock-local-pods"],
  );
});

t.test("a rule that throws is reported and the other rules' findings are kept", async (t) => {
  const boom: Rule = {
    id: "boom" as Rule["id"],
    title: "always throws",
    certainty: "provable",
    defaultAction: "deny",
    check() {
      throw new Error("kaboom");
    },
  };
  const p = ingressFrom([ipBlock("10.100.0.0/16")]);
  for (const candidates of [[boom, natHiddenCidr], [natHiddenCidr, boom]]) {
    const result = evaluatePolicy(p, fixture, {}, candidates);
    t.same(result.ruleFailures, [{ rule: "boom", error: "kaboom" }]);
    t.same(result.findings.map((f) => [f.rule, f.path]), [["nat-hidden-cidr", "spec.ingress[0].from[0].ipBlock"]]);
    t.same(result.inputErrors, []);
  }
  const weird: Rule = { ...boom, check: () => { throw "not an Error"; } };
  t.same(evaluatePolicy(p, fixture, {}, [weird]).ruleFailures, [{ rule: "boom", error: "not an Error" }]);
});

t.test("invalid input: errors reported, no rule runs", async (t) => {
  const result = evaluatePolicy(ingressFrom([ipBlock("10.100.0.0")]), fixture);
  t.same(result.findings, []);
  t.same(result.ruleFailures, []);
  t.same(result.inputErrors.map((e) => e.path), ["spec.ingress[0].from[0].ipBlock.cidr"]);
});

t.test("IPv4 and IPv6 peers are judged independently in one rule", async (t) => {
  const p = egressTo([ipBlock("10.100.0.0/16"), ipBlock("fd00:100::/56")]);
  const { findings } = evaluate(p, multicloudFullyDeclared);
  t.same(findings.map((f) => f.path), ["spec.egress[0].to[0].ipBlock", "spec.egress[0].to[1].ipBlock"]);
  for (const f of findings) t.match(f.message, NO_PEER_SENTENCE("spec.egress[0]"));
});

t.test("fixes start with a capital at the source; cluster names keep their spelling", async (t) => {
  const loaded = multicloud((d) => ((d.remoteClusters as Record<string, unknown>[])[1]!.namespaces = ["analytics"]));
  const named = (cluster: string) => ({ namespaceSelector: { matchLabels: { [KEY]: cluster } } });
  const p = policy({
    podSelector: { matchLabels: { a: "1" }, matchExpressions: [{ key: "a", operator: "DoesNotExist" }] },
    ingress: [
      { from: [named("azure-north"), named("onprem-south"), ipBlock("10.210.0.0/16"), ipBlock("10.210.0.0/15"), ipBlock("10.200.0.1/32")] },
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "analytics" } } }, ipBlock("10.9.0.0/16"), ipBlock("0.0.0.0/0")] },
    ],
    egress: [{ to: [ipBlock("192.0.2.0/24", ["192.0.2.0/25", "192.0.2.128/25"]), ipBlock("10.101.0.0/20")], ports: [{ port: "https" }] }],
  });
  const { findings } = evaluate(p, loaded);
  t.same(new Set(findings.map((f) => f.rule)).size, rules.length - 1, "every rule but ambiguous-remote-cidr fires");
  for (const f of findings) {
    t.match(f.fix, /^[A-Z]/, `${f.rule} at ${f.path}: starts with a capital`);
    t.notMatch(f.fix, /Azure-north|Onprem-south|Aws-east/, `${f.rule} at ${f.path}: cluster names as written`);
  }
});
