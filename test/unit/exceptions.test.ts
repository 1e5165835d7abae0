import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { parse } from "yaml";
import { checkExceptionWrite, guardrailExceptionSchema, invalidExceptionFindings, readExceptions, validateException, type GuardrailException } from "../../policies/index.js";
import { repoRoot } from "../helpers/paths.js";
import { evaluate, fixture, ingressFrom, ipBlock, labelledCluster } from "./helpers.js";

const NOW = new Date("2026-12-01T00:00:00Z");
const exception = (spec: Partial<GuardrailException["spec"]> = {}, name = "payments-legacy-vpn"): GuardrailException => ({
  apiVersion: "netguard.dev/v1alpha1",
  kind: "GuardrailException",
  metadata: { name },
  spec: { rules: ["nat-hidden-cidr"], match: { namespaces: ["payments"] }, reason: "Legacy VPN (INC-4211)", owner: "platform@example.com", expiresAt: "2026-12-31T00:00:00Z", ...spec },
});
const problems = (object: unknown, now = NOW) => validateException(object, { maxDays: 90, now }).problems.map((p) => `${p.path}: ${p.message}`);
const natHidden = (namespace: string, name = "allow-aws") => ingressFrom([ipBlock("10.100.0.0/16")], undefined, { namespace, name });
const judged = (namespace: string, items: GuardrailException[], labels?: Record<string, string>, name?: string) =>
  evaluate(natHidden(namespace, name), fixture, {
    ...labelledCluster,
    ...(labels ? { namespaceLabels: new Map([[namespace, labels]]) } : {}),
    exceptions: { items, now: NOW },
  }).findings.find((f) => f.rule === "nat-hidden-cidr")!;

t.test("a valid exception passes; every problem is named with its field", async (t) => {
  t.same(problems(exception()), []);
  t.same(problems(exception({ rules: [] })), ["spec.rules: must have at least 1 item"]);
  t.same(problems(exception({ rules: ["nat-hidden-cidr", "nat-hidden-cidr", "no-such" as never, "ipblock-local-pods"] })), [
    "spec.rules[1]: nat-hidden-cidr is listed twice",
    `spec.rules[2]: unknown rule "no-such"; rules are: remote-cluster-selector, nat-hidden-cidr, empty-ipblock, unsatisfiable-selector, named-port-to-cidr, partially-hidden-cidr, ambiguous-remote-cidr, pinned-remote-pod-ip, remote-namespace-name, ipblock-local-pods`,
    "spec.rules[3]: ipblock-local-pods is a likely rule: it only ever warns, and an exception waives denials",
  ]);
  t.same(problems(exception({ match: { policies: ["p"] } })), ["spec.match: must name namespaces or give a namespaceSelector (or both): an exception is never cluster-wide"]);
  t.same(problems(exception({ match: { namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists", values: ["x"] }] } } })), [
    "spec.match.namespaceSelector.matchExpressions[0].values: must be empty when operator is Exists",
  ]);
  t.match(problems(exception({ match: { namespaces: ["Payments"] } })), [/^spec\.match\.namespaces\[0\]: "Payments" is not a namespace name/]);
  t.same(problems(exception({ reason: "" })), ["spec.reason: must not be empty"]);
  t.same(problems({ ...exception(), spec: { ...exception().spec, owner: undefined } }), ["spec.owner: required field is missing"]);
  t.same(problems({ ...exception(), spec: { ...exception().spec, extra: 1 } }), ["spec.extra: unknown field"]);
  t.same(problems({ ...exception(), kind: "Other" }), ['kind: must be "GuardrailException"']);
});

t.test("expiresAt: an RFC 3339 time in the future, at most maxDays ahead", async (t) => {
  t.same(problems(exception({ expiresAt: "next week" })), ['spec.expiresAt: "next week" is not an RFC 3339 time such as 2027-01-31T00:00:00Z']);
  t.same(problems(exception({ expiresAt: "2026-11-30T23:59:59Z" })), ["spec.expiresAt: 2026-11-30T23:59:59Z has already passed: an exception must expire in the future"]);
  t.same(problems(exception({ expiresAt: "2027-03-01T00:00:01Z" })), [
    "spec.expiresAt: 2027-03-01T00:00:01Z is more than 90 days ahead (exceptions.maxDays); the latest allowed now is 2027-03-01T00:00:00.000Z",
  ]);
  t.same(problems(exception({ expiresAt: "2027-03-01T00:00:00Z" })), [], "exactly maxDays ahead is allowed");
  t.same(problems(exception({ expiresAt: "2026-12-02T01:00:00+01:00" })), [], "offsets are read");
  t.same(validateException(exception({ expiresAt: "2020-01-01T00:00:00Z" })).problems, [], "stored objects: only the syntax is judged");
});

t.test("a matching, unexpired exception turns the denial into a warning that names it", async (t) => {
  const f = judged("payments", [exception()]);
  t.equal(f.action, "warn");
  t.equal(f.waivedBy, "payments-legacy-vpn");
  t.match(f.message, /Waived by GuardrailException payments-legacy-vpn until 2026-12-31T00:00:00Z \(owner platform@example\.com: Legacy VPN \(INC-4211\)\)\.$/);
  t.equal(judged("ledger", [exception()]).action, "deny", "another namespace is not waived");
  t.equal(judged("payments", [exception({ rules: ["empty-ipblock"] })]).action, "deny", "another rule is not waived");
  t.equal(judged("payments", [exception({ match: { namespaces: ["payments"], policies: ["other"] } })]).action, "deny", "another policy is not waived");
  t.equal(judged("payments", [exception({ match: { namespaces: ["payments"], policies: ["allow-aws"] } })]).action, "warn", "the named policy is");
});

t.test("selectors: matched against the namespace's labels; unknown labels waive nothing and say so", async (t) => {
  const bySelector = exception({ match: { namespaceSelector: { matchLabels: { team: "payments" } } } });
  t.equal(judged("pay-1", [bySelector], { team: "payments" }).action, "warn");
  t.equal(judged("pay-1", [bySelector], { team: "ledger" }).action, "deny");
  const unknown = judged("pay-1", [bySelector]);
  t.equal(unknown.action, "deny");
  t.match(unknown.message, /GuardrailException payments-legacy-vpn would waive this if namespace pay-1 matches its namespaceSelector, but its labels are not known yet\./);
});

t.test("an expired exception waives nothing, and the denial says it expired", async (t) => {
  const f = judged("payments", [exception({ expiresAt: "2026-11-30T00:00:00Z" })]);
  t.equal(f.action, "deny");
  t.equal(f.waivedBy, undefined);
  t.match(f.message, /GuardrailException payments-legacy-vpn expired at 2026-11-30T00:00:00Z and waives nothing\./);
  t.equal(judged("payments", [exception({ expiresAt: "2026-12-01T00:00:00Z" })]).action, "deny", "expiry at this very moment: expired");
  const two = judged("payments", [exception({ expiresAt: "2026-11-30T00:00:00Z" }, "a-old"), exception({}, "b-new")]);
  t.equal(two.waivedBy, "b-new", "another one in force still waives");
});

t.test("warnings stay warnings; only denials are waived", async (t) => {
  const all = evaluate(ingressFrom([ipBlock("10.8.1.0/24")], undefined, { namespace: "payments" }), fixture, { ...labelledCluster, exceptions: { items: [exception({ rules: ["nat-hidden-cidr"] })], now: NOW } });
  t.ok(all.findings.length > 0 && all.findings.every((f) => f.action === "warn" && f.waivedBy === undefined));
});

t.test("writes: only privileged users, always valid, expiry judged when it changes; finishing a deletion always passes", async (t) => {
  const admin = { username: "admin", groups: ["system:masters"] };
  const alice = { username: "alice", groups: ["developers"] };
  const write = (op: string, object: unknown, old: unknown, user: typeof admin) => checkExceptionWrite(op, object, old, user, fixture.config, [], NOW).map((f) => `${f.rule} ${f.path}: ${f.message}`);
  t.same(write("CREATE", exception(), undefined, admin), []);
  t.same(write("CREATE", exception(), undefined, alice), ["guardrail-exception metadata: only system:masters may create or change a GuardrailException; alice is not among them."]);
  t.same(write("UPDATE", exception(), exception(), alice).length, 1, "an update by alice too");
  t.same(write("CREATE", exception({ expiresAt: "2028-01-01T00:00:00Z" }), undefined, admin), [
    "guardrail-exception spec.expiresAt: 2028-01-01T00:00:00Z is more than 90 days ahead (exceptions.maxDays); the latest allowed now is 2027-03-01T00:00:00.000Z.",
  ]);
  const expired = exception({ expiresAt: "2026-11-01T00:00:00Z" });
  const relabelled = { ...expired, metadata: { ...expired.metadata, labels: { reviewed: "yes" } } };
  t.same(write("UPDATE", relabelled, expired, admin), [], "an expired exception can still be relabelled: its expiry did not change");
  t.same(write("UPDATE", exception({ expiresAt: "2026-11-15T00:00:00Z" }), expired, admin).length, 1, "but not moved to another past date");
  const deleting = { ...expired, metadata: { ...expired.metadata, deletionTimestamp: "2026-12-01T00:00:00Z", finalizers: ["example.com/hold"] } };
  const released = { ...deleting, metadata: { ...deleting.metadata, finalizers: [] } };
  t.same(write("UPDATE", released, deleting, alice), [], "anyone may finish its deletion");
  t.same(write("DELETE", undefined, exception(), alice), [], "deletes are left to RBAC");
});

t.test("the CRD's schema has the fields of the JSON Schema netguard validates with", async (t) => {
  const crd = parse(readFileSync(join(repoRoot, "manifests/base/guardrailexception-crd.yaml"), "utf8"));
  const crdSpec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  type Node = { properties?: Record<string, Node>; $ref?: string; required?: string[] };
  const defs = (guardrailExceptionSchema as { definitions: Record<string, Node> }).definitions;
  const shape = (node: Node): unknown => {
    const resolved = node.$ref ? defs[node.$ref.split("/").pop()!]! : node;
    if (!resolved.properties) return "leaf";
    return { required: [...(resolved.required ?? [])].sort(), properties: Object.fromEntries(Object.entries(resolved.properties).map(([k, v]) => [k, shape(v)])) };
  };
  const jsonSpec = (guardrailExceptionSchema as { properties: { spec: Node } }).properties.spec;
  t.same(shape(crdSpec), shape(jsonSpec));
});

t.test("stored exceptions netguard cannot read waive nothing and are reported by name, or by position", async (t) => {
  const { items, invalid } = readExceptions([exception(), exception({ rules: ["nat-hiden-cidr" as never] }, "typo"), { kind: "GuardrailException" }]);
  t.same(items.map((e) => e.metadata.name), ["payments-legacy-vpn"]);
  t.same(
    invalidExceptionFindings(invalid).map(({ name, finding }) => [name, finding.rule, finding.action, finding.path]),
    [
      ["typo", "invalid-exception", "warn", "spec.rules[0]"],
      ["#2", "invalid-exception", "warn", "apiVersion"],
    ],
  );
  t.match(invalidExceptionFindings(invalid)[0]!.finding.message, /^GuardrailException typo is invalid and waives nothing: spec\.rules\[0\]: unknown rule "nat-hiden-cidr"/);
  t.equal(judged("payments", items.concat()).action, "warn", "the valid one still waives");
});
