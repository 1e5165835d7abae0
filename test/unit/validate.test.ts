import t, { type Test as Tap } from "tap";
import { evaluatePolicy } from "../../policies/index.js";
import { validateNetworkPolicy } from "../../policies/validate/network-policy.js";
import type { InputError } from "../../policies/types.js";
import { egressTo, fixture, ingressFrom, ipBlock, policy } from "./helpers.js";


function errorsOf(object: unknown): InputError[] {
  const { policy: validated, errors } = validateNetworkPolicy(object);
  if (validated) throw new Error("expected input errors, got a valid policy");
  return errors;
}

/** Exactly one error, at `path`, with a message matching `message`. */
function invalid(t: Tap, object: unknown, path: string, message: RegExp | string): void {
  const errors = errorsOf(object);
  t.same(errors.map((e) => e.path), [path], `one error at ${path}`);
  t.match(errors[0]?.message ?? "", message);
  const evaluation = evaluatePolicy(object, fixture);
  t.same(evaluation.findings, [], "no rule runs on invalid input");
  t.same(evaluation.inputErrors, errors, "the engine reports the same errors");
}

const anyPod = { podSelector: {} };

t.test("valid policies pass and get a default podSelector", async (t) => {
  const ok = validateNetworkPolicy(policy({ ingress: [{ from: [ipBlock("10.0.0.0/8", ["10.8.0.0/14"])], ports: [{ protocol: "TCP", port: 80, endPort: 90 }, { port: "http" }] }] }));
  t.same(ok.errors, []);
  t.ok(ok.policy);
  const noSelector = policy();
  delete (noSelector.spec as Record<string, unknown>).podSelector;
  t.same(validateNetworkPolicy(noSelector).policy?.spec.podSelector, {}, "an omitted podSelector selects every pod");
  t.ok(validateNetworkPolicy(ingressFrom([ipBlock("010.000.0.0/8")])).policy, "legacy leading zeros are accepted");
  t.ok(validateNetworkPolicy(ingressFrom([anyPod], [{ port: 80, endPort: 80 }])).policy, "endPort equal to port");
  t.ok(validateNetworkPolicy(ingressFrom([ipBlock("10.0.0.5/8")])).policy, "host bits set in cidr are tolerated");
});

const NOT_A_MAP = "must be a list (each entry starts with '- '), not a map";

t.test("lists written as a map say how to write a list", async (t) => {
  invalid(t, policy({ ingress: [{ from: [anyPod], ports: { port: 80 } }] }), "spec.ingress[0].ports", NOT_A_MAP);
  invalid(t, policy({ egress: [{ ports: { "0": { port: 53 } } }] }), "spec.egress[0].ports", NOT_A_MAP);
  invalid(t, { ...policy(), spec: { podSelector: {}, ingress: { from: [] } } }, "spec.ingress", NOT_A_MAP);
  invalid(t, policy({ ingress: [{ from: { podSelector: {} } }] }), "spec.ingress[0].from", NOT_A_MAP);
  invalid(t, egressTo([{ ipBlock: { cidr: "10.0.0.0/8", except: { cidr: "10.1.0.0/16" } } }]), "spec.egress[0].to[0].ipBlock.except", NOT_A_MAP);
  invalid(t, policy({ policyTypes: { Ingress: true } as never }), "spec.policyTypes", NOT_A_MAP);
  invalid(t, policy({ policyTypes: "Ingress" as never }), "spec.policyTypes", "must be a list (each entry starts with '- '), not a string");
});

t.test("other schema errors read as sentences", async (t) => {
  invalid(t, policy({ policyTypes: ["Ingress", "Egress", "Ingress"] }), "spec.policyTypes", "must have at most 2 items");
  invalid(t, policy({ podSelector: [] }), "spec.podSelector", "must be a map (key: value entries), not a list");
  invalid(t, ingressFrom([anyPod], [{ port: true as never }]), "spec.ingress[0].ports[0].port", "must be an integer or a string, not true or false");
  // A mistyped list item decodes to nothing: nothing of it is defaulted (this once threw).
  invalid(t, egressTo([], ["x" as never]), "spec.egress[0].ports[0]", "must be a map (key: value entries), not a string");
  invalid(t, policy({ ingress: [7 as never] }), "spec.ingress[0]", "must be a map (key: value entries), not an integer");
});

t.test("bad CIDRs", async (t) => {
  invalid(t, ingressFrom([ipBlock("10.100.0.0")]), "spec.ingress[0].from[0].ipBlock.cidr", '"10.100.0.0" has no prefix length (write it as 10.100.0.0/32 for a single address)');
  invalid(t, ingressFrom([ipBlock("fd00::1")]), "spec.ingress[0].from[0].ipBlock.cidr", '"fd00::1" has no prefix length (write it as fd00::1/128 for a single address)');
  invalid(t, egressTo([anyPod, ipBlock("10.0.0.0/33")]), "spec.egress[0].to[1].ipBlock.cidr", /"10\.0\.0\.0\/33" is not a valid IPv4 or IPv6 CIDR/);
  invalid(t, ingressFrom([ipBlock(":::/64")]), "spec.ingress[0].from[0].ipBlock.cidr", /not a valid/);
  invalid(t, ingressFrom([ipBlock("10.0.0.0/8", ["10.1.0.0"])]), "spec.ingress[0].from[0].ipBlock.except[0]", /no prefix length/);
  t.ok(validateNetworkPolicy(ingressFrom([ipBlock("10.0.0.0/0008", ["10.0.0.0001/16"])])).policy, "leading zeros of any length, as ParseCIDRSloppy");
  invalid(t, ingressFrom([{ ipBlock: {} }]), "spec.ingress[0].from[0].ipBlock.cidr", /required/);
  invalid(t, ingressFrom([{ ipBlock: { cidr: 10 } }]), "spec.ingress[0].from[0].ipBlock.cidr", "must be a string, not an integer");
});

t.test("except entries must be strict subsets of the cidr, in its family", async (t) => {
  invalid(t, ingressFrom([ipBlock("10.0.0.0/16", ["10.1.0.0/24"])]), "spec.ingress[0].from[0].ipBlock.except[0]", '"10.1.0.0/24" must be a strict subset of cidr 10.0.0.0/16');
  invalid(t, ingressFrom([ipBlock("10.0.0.0/16", ["10.0.0.0/24", "10.0.0.0/16"])]), "spec.ingress[0].from[0].ipBlock.except[1]", /strict subset/);
  invalid(t, ingressFrom([ipBlock("10.0.0.0/16", ["10.0.0.0/15"])]), "spec.ingress[0].from[0].ipBlock.except[0]", /strict subset/);
  invalid(t, ingressFrom([ipBlock("10.0.0.0/16", ["10.0.0.0/24", "fd00::/64"])]), "spec.ingress[0].from[0].ipBlock.except[1]", '"fd00::/64" is not the same IP family as cidr 10.0.0.0/16');
  invalid(t, egressTo([ipBlock("fd00::/48", ["10.0.0.0/8"])]), "spec.egress[0].to[0].ipBlock.except[0]", /same IP family/);
  invalid(t, egressTo([ipBlock("fd00::/48", ["fd01::/64"])]), "spec.egress[0].to[0].ipBlock.except[0]", /strict subset/);
  t.ok(validateNetworkPolicy(egressTo([ipBlock("10.0.0.0/8", ["::ffff:10.1.0.0/112"])])).policy, "an IPv4-mapped except inside an IPv4 cidr");
  invalid(t, egressTo([ipBlock("::/0", ["::ffff:10.0.0.0/104"])]), "spec.egress[0].to[0].ipBlock.except[0]", /same IP family/);
});

t.test("endPort rules", async (t) => {
  invalid(t, ingressFrom([anyPod], [{ endPort: 90 }]), "spec.ingress[0].ports[0].endPort", "may not be set when port is not set");
  invalid(t, ingressFrom([anyPod], [{ port: "http", endPort: 90 }]), "spec.ingress[0].ports[0].endPort", "may not be set when port is a named port");
  invalid(t, egressTo([anyPod], [{ port: 80 }, { port: 90, endPort: 80 }]), "spec.egress[0].ports[1].endPort", "must be greater than or equal to port (90)");
  invalid(t, egressTo([anyPod], [{ port: 80, endPort: 70000 }]), "spec.egress[0].ports[0].endPort", /between 1 and 65535/);
});

t.test("ports and protocols", async (t) => {
  invalid(t, ingressFrom([anyPod], [{ protocol: "ICMP" as never, port: 1 }]), "spec.ingress[0].ports[0].protocol", "must be one of: TCP, UDP, SCTP");
  invalid(t, ingressFrom([anyPod], [{ protocol: "tcp" as never, port: 1 }]), "spec.ingress[0].ports[0].protocol", /TCP, UDP, SCTP/);
  invalid(t, ingressFrom([anyPod], [{ port: 0 }]), "spec.ingress[0].ports[0].port", /between 1 and 65535/);
  invalid(t, ingressFrom([anyPod], [{ port: 65536 }]), "spec.ingress[0].ports[0].port", /between 1 and 65535/);
  invalid(t, ingressFrom([anyPod], [{ port: "80" }]), "spec.ingress[0].ports[0].port", /not a valid port name/);
  invalid(t, ingressFrom([anyPod], [{ port: "very-long-port-name" }]), "spec.ingress[0].ports[0].port", /not a valid port name/);
  invalid(t, ingressFrom([anyPod], [{ port: "HTTP" }]), "spec.ingress[0].ports[0].port", /not a valid port name/);
  invalid(t, ingressFrom([anyPod], [{ port: 80.5 }]), "spec.ingress[0].ports[0].port", "must be an integer or a string, not a decimal number");
});

t.test("peers", async (t) => {
  invalid(t, ingressFrom([{ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }]), "spec.ingress[0].from[0]", /ipBlock may not be combined with podSelector or namespaceSelector/);
  invalid(t, egressTo([anyPod, { ipBlock: { cidr: "10.0.0.0/8" }, namespaceSelector: {} }]), "spec.egress[0].to[1]", /may not be combined/);
  invalid(t, ingressFrom([anyPod, {}]), "spec.ingress[0].from[1]", /must specify a peer/);
  invalid(t, ingressFrom([{ ipblock: { cidr: "10.0.0.0/8" } }]), "spec.ingress[0].from[0].ipblock", /unknown field/);
});

t.test("selectors", async (t) => {
  invalid(t, ingressFrom([{ podSelector: { matchExpressions: [{ key: "app", operator: "In", values: [] }] } }]), "spec.ingress[0].from[0].podSelector.matchExpressions[0].values", "must be non-empty when operator is In");
  invalid(t, ingressFrom([{ namespaceSelector: { matchExpressions: [{ key: "app", operator: "NotIn" }] } }]), "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values", "must be non-empty when operator is NotIn");
  invalid(t, policy({ podSelector: { matchExpressions: [{ key: "app", operator: "Exists", values: ["x"] }] } }), "spec.podSelector.matchExpressions[0].values", "must be empty when operator is Exists");
  invalid(t, ingressFrom([{ podSelector: { matchExpressions: [{ key: "app", operator: "Equals", values: ["x"] }] } }]), "spec.ingress[0].from[0].podSelector.matchExpressions[0].operator", /In, NotIn, Exists, DoesNotExist/);
  invalid(t, ingressFrom([{ podSelector: { matchExpressions: [{ key: "bad key", operator: "Exists" }] } }]), "spec.ingress[0].from[0].podSelector.matchExpressions[0].key", /not a valid label key/);
  invalid(t, ingressFrom([{ podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["ok", "not ok"] }] } }]), "spec.ingress[0].from[0].podSelector.matchExpressions[0].values[1]", /"not ok" is not a valid label value/);
  invalid(t, ingressFrom([{ podSelector: { matchLabels: { "bad key": "x" } } }]), "spec.ingress[0].from[0].podSelector.matchLabels", /"bad key" is not a valid label key/);
  invalid(t, ingressFrom([{ podSelector: { matchLabels: { app: 1 } } }]), "spec.ingress[0].from[0].podSelector.matchLabels.app", "must be a string, not an integer");
});

t.test("label paths are field paths: keys are quoted only when they need it", async (t) => {
  invalid(t, ingressFrom([{ podSelector: { matchLabels: { app: "x y" } } }]), "spec.ingress[0].from[0].podSelector.matchLabels.app", /"x y" is not a valid label value/);
  invalid(
    t,
    egressTo([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "-bad" } } }]),
    'spec.egress[0].to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]',
    /"-bad" is not a valid label value/,
  );
  invalid(t, ingressFrom([{ podSelector: { matchLabels: { "a.b": 2 } } }]), 'spec.ingress[0].from[0].podSelector.matchLabels["a.b"]', /must be a string/);
});

t.test("unknown fields and wrong shapes", async (t) => {
  invalid(t, { ...policy(), spec: { podSelector: {}, ingres: [] } }, "spec.ingres", /unknown field/);
  invalid(t, policy({ ingress: [{ to: [anyPod] }] }), "spec.ingress[0].to", /unknown field/);
  invalid(t, policy({ egress: [{ from: [anyPod] }] }), "spec.egress[0].from", /unknown field/);
  invalid(t, policy({ ingress: [{ from: [anyPod], ports: [{ port: 80, proto: "TCP" }] }] }), "spec.ingress[0].ports[0].proto", /unknown field/);
  invalid(t, ingressFrom([{ podSelector: { matchLabel: { app: "x" } } }]), "spec.ingress[0].from[0].podSelector.matchLabel", /unknown field/);
  invalid(t, policy({ policyTypes: ["Ingress", "Both"] }), "spec.policyTypes[1]", /Ingress, Egress/);
  invalid(t, { ...policy(), kind: "Pod" }, "kind", /NetworkPolicy/);
  invalid(t, { ...policy(), apiVersion: "extensions/v1beta1" }, "apiVersion", /networking\.k8s\.io\/v1/);
  invalid(t, { ...policy(), metadata: { name: "web", bogus: 1 } }, "metadata.bogus", /unknown field/);
  invalid(t, { ...policy(), status: {} }, "status", /unknown field/);
  for (const notObject of [null, "x", 3, []]) {
    const errors = errorsOf(notObject);
    t.ok(errors.length >= 1, `rejects ${JSON.stringify(notObject)}`);
  }
});

t.test("several errors are all reported, each at its own path", async (t) => {
  const errors = errorsOf(
    policy({
      podSelector: { matchExpressions: [{ key: "a", operator: "In" }] },
      ingress: [{ from: [{}, ipBlock("x")], ports: [{ endPort: 5 }] }],
      egress: [{ to: [ipBlock("10.0.0.0/8", ["11.0.0.0/16", "fd00::/64", "10.0.0.0/7"])] }],
    }),
  );
  t.same(errors.map((e) => e.path), [
    "spec.podSelector.matchExpressions[0].values",
    "spec.ingress[0].from[0]",
    "spec.ingress[0].from[1].ipBlock.cidr",
    "spec.ingress[0].ports[0].endPort",
    "spec.egress[0].to[0].ipBlock.except[0]",
    "spec.egress[0].to[0].ipBlock.except[1]",
    "spec.egress[0].to[0].ipBlock.except[2]",
  ]);
});

t.test("fields set to null are treated as absent, as the apiserver decodes them", async (t) => {
  // YAML `matchLabels:` with nothing after it, as in published recipes.
  const p = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "x", namespace: "default", labels: null },
    spec: {
      podSelector: { matchLabels: null },
      policyTypes: null,
      ingress: [{ from: [{ podSelector: {}, namespaceSelector: null }], ports: null }],
      egress: [{ to: [{ ipBlock: { cidr: "192.0.2.0/24", except: null } }] }],
    },
  };
  const before = JSON.stringify(p);
  const { policy: validated, errors } = validateNetworkPolicy(p);
  t.same(errors, []);
  t.same(validated?.spec.podSelector, {});
  t.notOk(validated && "namespaceSelector" in validated.spec.ingress![0]!.from![0]!);
  t.equal(JSON.stringify(p), before, "the input is not modified");
  t.same(evaluatePolicy(p, fixture).inputErrors, []);
  t.same(evaluatePolicy(p, fixture).findings, []);
});

t.test("a missing or null spec is what the apiserver stores: an empty podSelector and policyTypes [Ingress]", async (t) => {
  const { spec: _spec, ...noSpec } = policy();
  for (const object of [noSpec, { ...policy(), spec: null }]) {
    const { policy: validated, errors } = validateNetworkPolicy(object);
    t.same(errors, []);
    t.same(validated?.spec, { podSelector: {}, policyTypes: ["Ingress"] });
  }
});

t.test("null inside lists and label maps is the element's zero value, as Go decodes JSON", async (t) => {
  const defaulted = validateNetworkPolicy(policy({ ingress: [null as never], egress: [{ ports: [null as never] }] })).policy!;
  t.same(defaulted.spec.ingress, [{}], "an ingress rule of null is an empty rule");
  t.same(defaulted.spec.egress, [{ ports: [{ protocol: "TCP" }] }], "a port of null is an empty port, TCP by default");
  t.same(defaulted.spec.policyTypes, ["Ingress", "Egress"], "policyTypes default from the rules present");
  t.same(validateNetworkPolicy(policy({ podSelector: { matchExpressions: [{ key: "a", operator: "In", values: [null as never] }] } })).errors, [], "a null value is the empty value");
  t.same(validateNetworkPolicy(policy({ podSelector: { matchLabels: { a: null as never } } })).policy?.spec.podSelector, { matchLabels: { a: "" } });
  invalid(t, policy({ podSelector: { matchLabels: { "bad key": null as never } } }), "spec.podSelector.matchLabels", /not a valid label key/);
  invalid(t, ingressFrom([null as never]), "spec.ingress[0].from[0]", /must specify a peer/);
});

t.test("metadata is validated as the apiserver does", async (t) => {
  const meta = (metadata: Record<string, unknown>) => ({ ...policy(), metadata });
  invalid(t, meta({ namespace: "web" }), "metadata.name", /name or generateName is required/);
  t.same(validateNetworkPolicy(meta({ generateName: "web-" })).errors, [], "generateName stands in for the name");
  invalid(t, meta({ name: "Web" }), "metadata.name", /RFC 1123 subdomain/);
  invalid(t, meta({ name: "a".repeat(254) }), "metadata.name", /no more than 253/);
  t.same(validateNetworkPolicy(meta({ name: "a".repeat(253) })).errors, [], "253 characters is the limit");
  invalid(t, meta({ name: "web", namespace: "Team" }), "metadata.namespace", /RFC 1123 label/);
  t.same(validateNetworkPolicy(meta({ name: "web" })).errors, [], "no namespace: the request's is used");
  invalid(t, meta({ name: "web", labels: { app: "x y" } }), "metadata.labels.app", /not a valid label value/);
  const longKey = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}/${"e".repeat(63)}`;
  t.equal(longKey.length, 317);
  t.same(validateNetworkPolicy(meta({ name: "web", labels: { [longKey]: "x" } })).errors, [], "a 317-character key whose parts are within their limits");
  invalid(t, meta({ name: "web", labels: { [`${"a".repeat(254)}/x`]: "x" } }), "metadata.labels", /prefix part must be no more than 253/);
  invalid(t, meta({ name: "web", annotations: { "a b": "x" } }), "metadata.annotations", /annotation key/);
  invalid(t, meta({ name: "web", annotations: { a: "x".repeat(256 * 1024) } }), "metadata.annotations", /may not total more than/);
  invalid(t, meta({ name: "web", finalizers: ["a b"] }), "metadata.finalizers[0]", /"a b"/);
  invalid(t, meta({ name: "web", finalizers: ["cleanup"] }), "metadata.finalizers[0]", /neither a standard finalizer name/);
  t.same(validateNetworkPolicy(meta({ name: "web", finalizers: ["kubernetes", "example.com/cleanup"] })).errors, []);
  invalid(t, meta({ name: "web", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "c" }] }), "metadata.ownerReferences[0].uid", /must not be empty/);
  invalid(t, meta({ name: "web", creationTimestamp: "yesterday" }), "metadata.creationTimestamp", /RFC 3339/);
});

t.test("on UPDATE, what the apiserver checks against the stored object", async (t) => {
  const stored = { ...policy(), metadata: { name: "test", namespace: "web", resourceVersion: "7", uid: "u1" } };
  const update = (metadata: Record<string, unknown>) => validateNetworkPolicy({ ...stored, metadata }, { operation: "UPDATE", oldObject: stored });
  t.same(update({ ...stored.metadata, labels: { a: "b" } }).errors, []);
  t.match(update({ ...stored.metadata, name: "other" }).errors, [{ path: "metadata.name", message: /immutable/ }]);
  t.match(update({ ...stored.metadata, resourceVersion: undefined }).errors, [{ path: "metadata.resourceVersion", message: /must be specified/ }]);
  const legacy = { ...stored, spec: { podSelector: { matchExpressions: [{ key: "a", operator: "In", values: ["not valid"] }] } } };
  t.same(validateNetworkPolicy(legacy, { operation: "UPDATE", oldObject: legacy }).errors, [], "a stored podSelector with invalid values may be kept");
  t.ok(validateNetworkPolicy(legacy).errors.length > 0, "but not created");
});
