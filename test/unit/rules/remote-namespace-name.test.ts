import t from "tap";
import { egressTo, ingressFrom, multicloud, only, silentFor, withScope } from "../helpers.js";

const RULE = "remote-namespace-name";
const NAME = "kubernetes.io/metadata.name";
const silent = silentFor(RULE);
const byName = (...names: string[]) =>
  names.length === 1 ? { namespaceSelector: { matchLabels: { [NAME]: names[0] } } } : { namespaceSelector: { matchExpressions: [{ key: NAME, operator: "In", values: names }] } };

t.test("names a namespace declared only in a remote (no cluster facts)", async (t) => {
  const f = only(RULE, ingressFrom([byName("payments")]));
  t.equal(f.rule, RULE);
  t.equal(f.action, "warn");
  t.equal(f.certainty, "likely");
  t.equal(f.path, "spec.ingress[0].from[0].namespaceSelector");
  t.match(f.message, "selects namespace payments by name, declared in remote cluster aws-east; the CNI resolves namespaces only in this cluster");
  t.notMatch(f.message, /absent here/, "without facts it cannot say the namespace is absent");
  t.notMatch(f.message, /No peer of/, "a likely finding never claims the rule is dead");
  t.equal(
    f.fix,
    "Allow aws-east's NAT source addresses instead (ipBlock cidr 203.0.113.10/32). Keep at least one peer in the rule: an empty `from` allows all traffic.",
    "ingress from a nat remote: its NAT source addresses, never its hidden pod range",
  );
});

t.test("the fix names the addresses each owning remote's traffic carries in that direction", async (t) => {
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[1]!.namespaces = ["analytics"];
    remotes[2]!.namespaces = ["analytics", "billing"];
  });
  t.equal(
    only(RULE, egressTo([byName("ledger")])).fix,
    "Dial aws-east through its exposed addresses instead (ipBlock cidr 198.51.100.0/28). Keep at least one peer in the rule: an empty `to` allows all traffic.",
  );
  t.match(only(RULE, egressTo([byName("billing")]), loaded).fix, /^Allow onprem-south's pod range \(ipBlock cidr 10\.210\.0\.0\/16 or ipBlock cidr fd00:210::\/56\) instead: the routed link keeps pod addresses\. /);
  t.match(only(RULE, ingressFrom([byName("billing")]), loaded).fix, /^Allow onprem-south's node range \(ipBlock cidr 10\.211\.0\.0\/20 or ipBlock cidr fd00:211::\/64\) instead: it rewrites pod sources to its node addresses\. /);
  const both = only(RULE, ingressFrom([byName("analytics")]), loaded);
  t.match(both.message, "declared in remote cluster azure-north, onprem-south;");
  t.match(both.fix, /^Allow azure-north's pod range \(ipBlock cidr 10\.200\.0\.0\/16 or ipBlock cidr fd00:200::\/56\) instead: the routed link keeps pod addresses\. Allow onprem-south's node range /);
});

t.test("with the live namespace list", async (t) => {
  const facts = { localNamespaces: new Set(["web", "default", "kube-system"]) };
  const f = only(RULE, egressTo([byName("payments", "ledger")]), undefined, facts);
  t.equal(f.path, "spec.egress[0].to[0].namespaceSelector");
  t.match(f.message, "selects namespaces ledger, payments by name, declared in remote cluster aws-east and absent here");
  t.ok(silent(ingressFrom([byName("payments")]), undefined, { localNamespaces: new Set(["payments"]) }), "it exists here too");
});

t.test("silent when the name is the policy's own namespace", async (t) => {
  t.ok(silent(ingressFrom([byName("payments")], undefined, { namespace: "payments" })));
  t.ok(silent(ingressFrom([byName("payments", "ledger")], undefined, { namespace: "ledger" })));
});

t.test("silent unless every named namespace is declared remote", async (t) => {
  t.ok(silent(ingressFrom([byName("payments", "web")])), "web is not declared remote");
  t.ok(silent(ingressFrom([byName("web")])));
  t.ok(silent(ingressFrom([{ namespaceSelector: { matchExpressions: [{ key: NAME, operator: "NotIn", values: ["payments"] }] } }])));
  t.ok(silent(ingressFrom([{ namespaceSelector: { matchExpressions: [{ key: NAME, operator: "Exists" }] } }])));
  t.ok(silent(ingressFrom([{ namespaceSelector: { matchLabels: { team: "payments" } } }])));
  t.ok(silent(ingressFrom([{ podSelector: { matchLabels: { [NAME]: "payments" } } }])), "a podSelector is not a namespace name");
});

t.test("the names remaining after NotIn are what counts", async (t) => {
  const sel = { namespaceSelector: { matchExpressions: [{ key: NAME, operator: "In", values: ["payments", "web"] }, { key: NAME, operator: "NotIn", values: ["web"] }] } };
  t.match(only(RULE, ingressFrom([sel])).message, "namespace payments by name");
});

t.test("silent when selectors resolve across clusters; configurable", async (t) => {
  const mesh = withScope("cilium-clustermesh");
  t.ok(silent(ingressFrom([byName("payments")]), mesh));
  t.ok(silent(ingressFrom([byName("payments")]), multicloud((d) => (d.rules = { [RULE]: "off" }))));
});

t.test("built-in and exempt namespaces exist in every cluster, even without cluster facts", async (t) => {
  const loaded = multicloud((d) => {
    (d.remoteClusters as Record<string, unknown>[])[0]!.namespaces = ["kube-system", "default", "netguard-system", "payments", "ops"];
    d.exemptNamespaces = ["kube-system", "ops"];
  });
  for (const name of ["kube-system", "default", "ops"]) {
    t.ok(silent(egressTo([byName(name)]), loaded), `${name} is local`);
  }
  t.ok(only(RULE, egressTo([byName("netguard-system")]), loaded), "no longer exempt: only declared remote");
  t.ok(only(RULE, egressTo([byName("payments")]), loaded));
});
