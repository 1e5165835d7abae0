import t from "tap";
import { loadConfig, resolveRuleAction } from "../../policies/index.js";
import { catalog } from "../../policies/config/catalog.js";
import { evaluate, ingressFrom, ipBlock, labelledCluster, multicloud, multicloudDocument } from "./helpers.js";

const sandbox = { matchLabels: { tier: "sandbox" } };
const overridden = multicloud((d) => {
  d.rules = { "empty-ipblock": "warn" };
  d.ruleOverrides = [
    { namespaceSelector: sandbox, rules: { "nat-hidden-cidr": "warn" } },
    { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In", values: ["payments"] }] }, rules: { "nat-hidden-cidr": "off", "empty-ipblock": "deny" } },
  ];
});
const natHidden = (namespace: string) => ingressFrom([ipBlock("10.100.0.0/16")], undefined, { namespace });
const facts = (labels: Record<string, Record<string, string>>) => ({ ...labelledCluster, namespaceLabels: new Map(Object.entries(labels)) });
const action = (namespace: string, labels?: Record<string, string>) =>
  evaluate(natHidden(namespace), overridden, facts(labels ? { [namespace]: labels } : {})).findings.find((f) => f.rule === "nat-hidden-cidr");

t.test("per rule, the first override whose selector matches the namespace decides, then rules, then the default", async (t) => {
  t.equal(action("prod", { tier: "prod" })?.action, "deny", "no override matches: the default");
  t.equal(action("play", { tier: "sandbox" })?.action, "warn", "a sandbox namespace warns");
  t.equal(action("pay", { team: "payments" }), undefined, "off in payments");
  t.equal(action("both", { tier: "sandbox", team: "payments" })?.action, "warn", "the first matching override wins");
  const { config } = overridden;
  t.same(resolveRuleAction(catalog["empty-ipblock"], config, "both", { tier: "sandbox", team: "payments" }), { action: "deny", from: "ruleOverrides[1]" }, "an override that does not name a rule leaves it to the next");
  t.same(resolveRuleAction(catalog["empty-ipblock"], config, "prod", {}), { action: "warn", from: "rules" });
  t.same(resolveRuleAction(catalog["unsatisfiable-selector"], config, "prod", {}), { action: "deny", from: "default" });
});

t.test("with the namespace's labels unknown, a denial that an override might soften is only a warning, and says why", async (t) => {
  const finding = action("unseen");
  t.equal(finding?.action, "warn");
  t.match(finding?.message, /Warned, not denied: the labels of namespace unseen are not known, so whether ruleOverrides\[0\] \(warn\) or ruleOverrides\[1\] \(off\) applies instead of deny cannot be told\./);
  const { config } = overridden;
  t.same(resolveRuleAction(catalog["ambiguous-remote-cidr"], config, "unseen", undefined), { action: "warn", from: "default" }, "rules no override names are unaffected");
  const everywhere = multicloud((d) => (d.ruleOverrides = [{ namespaceSelector: {}, rules: { "nat-hidden-cidr": "warn" } }]));
  t.same(resolveRuleAction(catalog["nat-hidden-cidr"], everywhere.config, "unseen", undefined), { action: "warn", from: "ruleOverrides[0]" }, "an empty selector matches whatever the labels");
  const allDeny = multicloud((d) => (d.ruleOverrides = [{ namespaceSelector: sandbox, rules: { "nat-hidden-cidr": "deny" } }]));
  t.same(resolveRuleAction(catalog["nat-hidden-cidr"], allDeny.config, "unseen", undefined), { action: "deny", from: "ruleOverrides[0]" }, "every candidate denies: deny");
});

t.test("ruleOverrides are validated like the rest of the config", async (t) => {
  const problems = (overrides: unknown) => {
    const doc = multicloudDocument();
    doc.ruleOverrides = overrides;
    const result = loadConfig(doc);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };
  t.same(problems([{ namespaceSelector: {}, rules: { "nat-hidden-cidr": "warn" } }]), []);
  t.same(problems([{ namespaceSelector: {}, rules: { "no-such-rule": "warn" } }]), ["ruleOverrides[0].rules.no-such-rule: unknown field"]);
  t.same(problems([{ namespaceSelector: {}, rules: { "ipblock-local-pods": "deny" } }]), [
    "ruleOverrides[0].rules.ipblock-local-pods: deny is only allowed for provable rules; ipblock-local-pods is likely (a warning at most): use warn or off",
  ]);
  t.same(problems([{ namespaceSelector: { matchExpressions: [{ key: "tier", operator: "In" }] }, rules: {} }]), [
    "ruleOverrides[0].namespaceSelector.matchExpressions[0].values: must be non-empty when operator is In",
  ]);
  t.match(problems([{ namespaceSelector: { matchLabels: { "bad key!": "x" } }, rules: {} }]), [/^ruleOverrides\[0\]\.namespaceSelector\.matchLabels: "bad key!" is not a valid label key/]);
  t.same(problems([{ namespaceSelector: { matchLabels: { tier: "a" }, matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, rules: {} }]), [
    "ruleOverrides[0].namespaceSelector: its requirements contradict each other, so it matches no namespace and the override never applies",
  ]);
  t.same(problems([{ rules: {} }]), ["ruleOverrides[0].namespaceSelector: required field is missing"]);
  t.same(problems({}), ["ruleOverrides: must be a list (each entry starts with '- '), not a map"]);
});

t.test("exceptions.maxDays defaults to 90 and is bounded", async (t) => {
  t.equal(overridden.config.exceptions.maxDays, 90);
  const doc = multicloudDocument();
  doc.exceptions = { maxDays: 0 };
  const result = loadConfig(doc);
  t.same(result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`), ["exceptions.maxDays: must be at least 1"]);
});
