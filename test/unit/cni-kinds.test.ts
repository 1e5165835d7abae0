/** The rules on Cilium and Calico policies: the same verdicts as for NetworkPolicy, named in each kind's fields. */
import t from "tap";
import { evaluatePolicy } from "../../policies/index.js";
import { evaluate, fixture, multicloudFullyDeclared } from "./helpers.js";

const cnp = (spec: Record<string, unknown>, kind = "CiliumNetworkPolicy") => ({
  apiVersion: "cilium.io/v2",
  kind,
  metadata: { name: "p", ...(kind === "CiliumNetworkPolicy" ? { namespace: "shop" } : {}) },
  spec: { endpointSelector: { matchLabels: { app: "web" } }, ...spec },
});
const calico = (spec: Record<string, unknown>, kind = "NetworkPolicy") => ({
  apiVersion: "projectcalico.org/v3",
  kind,
  metadata: { name: "p", ...(kind === "NetworkPolicy" ? { namespace: "shop" } : {}) },
  spec: { selector: "app == 'web'", ...spec },
});

/** Denials offline under a config that declares every range, so that only the rule's own premises decide. */
const denials = (object: unknown) => {
  const e = evaluate(object, multicloudFullyDeclared, { origin: "offline" });
  if (e.inputErrors.length > 0) throw new Error(JSON.stringify(e.inputErrors));
  return e.findings.filter((f) => f.action === "deny");
};

t.test("Cilium: toCIDR and fromCIDRSet naming a NAT-hidden remote pod range are denied at the entry", async (t) => {
  const [egress] = denials(cnp({ egress: [{ toCIDR: ["10.100.0.0/16"] }] }));
  t.equal(egress?.rule, "nat-hidden-cidr");
  t.equal(egress?.path, "spec.egress[0].toCIDR[0]");
  t.match(egress?.message, /^toCIDR 10\.100\.0\.0\/16 lies entirely in aws-east's pod range/);
  t.match(egress?.fix, /toCIDR 198\.51\.100\.0\/28/, "the alternative is written in Cilium's syntax");
  const [ingress] = denials(cnp({ ingress: [{ fromCIDRSet: [{ cidr: "10.100.0.0/16", except: ["10.100.1.0/24"] }] }] }));
  t.equal(ingress?.path, "spec.ingress[0].fromCIDRSet[0]");
  t.match(ingress?.fix, /fromCIDR 203\.0\.113\.10\/32/);
  t.match(ingress?.message, /so that rule allows nothing/);
});

t.test("Cilium: an egressDeny that can never match says it lets traffic through", async (t) => {
  const [f] = denials(cnp({ egressDeny: [{ toCIDR: ["10.100.0.0/16"] }] }));
  t.equal(f?.path, "spec.egressDeny[0].toCIDR[0]");
  t.match(f?.message, /Deny rule blocks nothing: the traffic it meant to block is let through/);
  t.match(f?.fix, /a Cilium rule left with no peer and no `toPorts` matches nothing/);
});

t.test("Cilium: specs lists, CIDRSet except covering the cidr, and a cidrGroupRef left alone", async (t) => {
  const found = denials({
    ...cnp({}),
    spec: undefined,
    specs: [
      { endpointSelector: {}, egress: [{ toCIDRSet: [{ cidr: "192.0.2.0/24", except: ["192.0.2.0/24"] }] }] },
      { endpointSelector: {}, egress: [{ toCIDRSet: [{ cidrGroupRef: "partners" }] }] },
    ],
  });
  t.same(found.map((f) => `${f.rule} ${f.path}`), ["empty-ipblock specs[0].egress[0].toCIDRSet[0].except"]);
});

t.test("Cilium: endpoint selectors on the cluster label, through the namespace labels or Cilium's own", async (t) => {
  const viaNamespace = denials(cnp({ ingress: [{ fromEndpoints: [{ matchLabels: { "k8s:io.cilium.k8s.namespace.labels.netguard.dev/cluster": "aws-east" } }] }] }));
  t.same(viaNamespace.map((f) => `${f.rule} ${f.path}`), ["remote-cluster-selector spec.ingress[0].fromEndpoints[0]"]);
  const viaCilium = evaluate(cnp({ ingress: [{ fromEndpoints: [{ matchLabels: { "io.cilium.k8s.policy.cluster": "aws-east" } }] }] })).findings;
  t.equal(viaCilium[0]?.rule, "remote-cluster-selector");
  t.equal(viaCilium[0]?.action, "warn", "Cilium's cluster-name is not read from the cluster");
  t.match(viaCilium[0]?.message, /premise cilium-cluster-name is unknown/);
  const local = evaluate(cnp({ ingress: [{ fromEndpoints: [{ matchLabels: { "io.cilium.k8s.policy.cluster": "gcp-west" } }] }] })).findings;
  t.same(local, [], "the local cluster's name");
});

t.test("Cilium: a named port towards CIDRs only warns (Cilium applies the number to every peer)", async (t) => {
  const [f] = evaluate(cnp({ egress: [{ toCIDR: ["203.0.113.0/24"], toPorts: [{ ports: [{ port: "https", protocol: "TCP" }] }] }] })).findings.filter((f) => f.rule === "named-port-to-cidr");
  t.equal(f?.path, "spec.egress[0].toPorts[0].ports[0].port");
  t.equal(f?.action, "warn");
  t.match(f?.message, /premise named-ports-per-endpoint fails/);
});

t.test("Cilium: fromEntities and toFQDNs are alternatives netguard cannot judge, never flagged", async (t) => {
  t.same(evaluate(cnp({ ingress: [{ fromEntities: ["world"] }], egress: [{ toFQDNs: [{ matchName: "example.com" }], toPorts: [{ ports: [{ port: "https" }] }] }] })).findings, []);
});

t.test("Calico: nets naming a NAT-hidden range, minus notNets, in Allow and Deny rules", async (t) => {
  const [allow] = denials(calico({ ingress: [{ action: "Allow", source: { nets: ["10.100.0.0/16"] } }] }));
  t.equal(allow?.path, "spec.ingress[0].source.nets[0]");
  t.match(allow?.message, /^nets 10\.100\.0\.0\/16 lies entirely/);
  t.match(allow?.fix, /nets 203\.0\.113\.10\/32/);
  const [deny] = denials(calico({ egress: [{ action: "Deny", destination: { nets: ["10.100.0.0/16", "192.0.2.0/24"] } }] }));
  t.equal(deny?.path, "spec.egress[0].destination.nets[0]");
  t.match(deny?.message, /It is in a Deny rule: the traffic it meant to block there is let through/);
  const [empty] = denials(calico({ egress: [{ action: "Allow", destination: { nets: ["192.0.2.0/24"], notNets: ["192.0.2.0/23"] } }] }));
  t.equal(empty?.rule, "empty-ipblock");
  t.equal(empty?.path, "spec.egress[0].destination.notNets");
});

t.test("Calico: a Log rule changes no verdict and is not judged; a Pass says what it fails to do", async (t) => {
  t.same(denials(calico({ ingress: [{ action: "Log", source: { nets: ["10.100.0.0/16"] } }] })), []);
  const [pass] = denials(calico({ ingress: [{ action: "Pass", source: { nets: ["10.100.0.0/16"] } }] }, "GlobalNetworkPolicy"));
  t.match(pass?.message, /Pass rule hands nothing to the next tier/);
});

t.test("Calico: selectors in the selector language", async (t) => {
  const remote = denials(calico({ ingress: [{ action: "Allow", source: { namespaceSelector: "netguard.dev/cluster == 'aws-east'" } }] }));
  t.same(remote.map((f) => `${f.rule} ${f.path}`), ["remote-cluster-selector spec.ingress[0].source.namespaceSelector"]);
  const contradiction = denials(calico({ ingress: [{ action: "Allow", source: { selector: "app == 'a' && app == 'b'" } }] }));
  t.same(contradiction.map((f) => `${f.rule} ${f.path}`), ["unsatisfiable-selector spec.ingress[0].source.selector"]);
  const subject = denials(calico({ selector: "has(app) && !has(app)" }));
  t.same(subject.map((f) => `${f.rule} ${f.path}`), ["unsatisfiable-selector spec.selector"]);
  t.same(denials(calico({ ingress: [{ action: "Allow", source: { namespaceSelector: "netguard.dev/cluster in {'aws-east', 'gcp-west'}" } }] })), [], "one of them is local");
  t.same(denials(calico({ ingress: [{ action: "Allow", source: { namespaceSelector: "global()" } }] })), []);
});

t.test("Calico: a named port towards nets outside the pods is provable (Calico matches named ports per endpoint)", async (t) => {
  const [f] = denials(calico({ egress: [{ action: "Allow", protocol: "TCP", destination: { nets: ["203.0.113.0/24"], ports: ["https"] } }] }));
  t.equal(f?.rule, "named-port-to-cidr");
  t.equal(f?.path, "spec.egress[0].destination.ports[0]");
});

t.test("input errors for the CNI kinds name the field", async (t) => {
  const errorsOf = (object: unknown) => evaluatePolicy(object, fixture, { origin: "offline" });
  const bad = errorsOf(calico({ ingress: [{ action: "Allow", source: { selector: "app == " } }] }));
  t.equal(bad.inputErrors[0]?.path, "spec.ingress[0].source.selector");
  t.match(bad.inputErrors[0]?.message, /not a valid Calico selector/);
  t.match(errorsOf(calico({ ingress: [{ action: "allow" }] })).inputErrors, [{ path: "spec.ingress[0].action", message: /must be one of: Allow, Deny, Log, Pass/ }]);
  t.same(errorsOf(calico({ selector: null, ingress: [{ action: "Allow", source: { selector: null, nets: ["192.0.2.0/24"] } }] })).inputErrors, [], "null fields are pruned before the model reads them");
  const net = errorsOf(calico({ ingress: [{ action: "Allow", source: { nets: ["10.0.0.0/33"] } }] }));
  t.equal(net.inputErrors[0]?.path, "spec.ingress[0].source.nets[0]");
  const cil = errorsOf(cnp({ egress: [{ toCIDR: ["not-an-address"] }] }));
  t.ok(cil.inputErrors.length > 0 && cil.inputErrors[0]!.path.startsWith("spec.egress[0].toCIDR"), JSON.stringify(cil.inputErrors));
  t.match(cil.inputErrors[0]?.message, /cidr/i);
  const unknown = errorsOf(cnp({ egress: [{ toCIDRs: ["10.0.0.0/8"] }] }));
  t.same(unknown.inputErrors.map((e) => e.path), ["spec.egress[0].toCIDRs"], "an unknown field, as kubectl's strict validation");
  const both = errorsOf({ ...cnp({ egress: [{ toCIDR: ["10.0.0.0/8"] }] }), spec: { endpointSelector: {}, nodeSelector: {}, egress: [{ toCIDR: ["10.0.0.0/8"] }] } });
  t.match(both.inputErrors, [{ path: "spec", message: /may set only one of endpointSelector, nodeSelector/ }]);
  const cluster = errorsOf({ ...cnp({ egress: [{ toCIDR: ["10.0.0.0/8"] }] }, "CiliumClusterwideNetworkPolicy"), metadata: { name: "p", namespace: "ignored" } });
  t.same(cluster.inputErrors, [], "a cluster-scoped object's namespace is cleared, not refused");
});
