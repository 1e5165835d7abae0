import t from "tap";
import { defaultConfig } from "../../../policies/index.js";
import { NO_PEER_SENTENCE, egressTo, findingsOf, ingressFrom, ipBlock, multicloud, only, silentFor, withScope } from "../helpers.js";

const RULE = "remote-cluster-selector";
const KEY = "netguard.dev/cluster";
const silent = silentFor(RULE);
const ns = (selector: unknown) => ({ namespaceSelector: selector });

t.test("matchLabels naming a NATed remote (ingress)", async (t) => {
  const f = only(RULE, ingressFrom([ns({ matchLabels: { [KEY]: "aws-east" } })]), multicloud(), { origin: "offline" });
  t.equal(f.rule, RULE);
  t.equal(f.action, "deny");
  t.equal(f.certainty, "provable");
  t.equal(f.path, "spec.ingress[0].from[0].namespaceSelector");
  t.match(f.message, `selects namespaces with ${KEY} in (aws-east), but every namespace of this cluster carries ${KEY}=gcp-west`);
  t.match(f.message, /resolves selectors only against this cluster, so this peer matches nothing/);
  t.match(f.message, NO_PEER_SENTENCE("spec.ingress[0]"));
  t.match(f.fix, /^Allow aws-east's NAT source addresses instead \(ipBlock cidr 203\.0\.113\.10\/32\)\. /);
  t.match(f.fix, /an empty `from` allows all traffic/);
});

t.test("egress to a NATed remote suggests its exposed addresses", async (t) => {
  const f = only(RULE, egressTo([ns({ matchLabels: { [KEY]: "aws-east" } })]));
  t.equal(f.path, "spec.egress[0].to[0].namespaceSelector");
  t.match(f.fix, /^Dial aws-east through its exposed addresses instead \(ipBlock cidr 198\.51\.100\.0\/28\)\. /);
  t.match(f.fix, /an empty `to` allows all traffic/);
});

t.test("routed remotes: suggest addresses that traffic actually carries", async (t) => {
  const azure = only(RULE, ingressFrom([ns({ matchLabels: { [KEY]: "azure-north" } })]));
  t.match(azure.fix, /^Allow azure-north's pod range \(ipBlock cidr 10\.200\.0\.0\/16 or ipBlock cidr fd00:200::\/56\) instead: the routed link keeps pod addresses\. /);
  t.notMatch(azure.fix, /Azure-north/, "cluster names are kept as written");
  const onpremIn = only(RULE, ingressFrom([ns({ matchLabels: { [KEY]: "onprem-south" } })]));
  t.match(
    onpremIn.fix,
    /^Allow onprem-south's node range \(ipBlock cidr 10\.211\.0\.0\/20 or ipBlock cidr fd00:211::\/64\) instead: it rewrites pod sources to its node addresses\. /,
    "SNAT to nodes: pod addresses never arrive",
  );
  const onpremOut = only(RULE, egressTo([ns({ matchLabels: { [KEY]: "onprem-south" } })]));
  t.match(onpremOut.fix, /^Allow onprem-south's pod range \(ipBlock cidr 10\.210\.0\.0\/16 or ipBlock cidr fd00:210::\/56\) instead/);
});

t.test("In listing only remote clusters", async (t) => {
  const f = only(RULE, ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "In", values: ["azure-north", "aws-east"] }] })]));
  t.match(f.message, `${KEY} in (aws-east, azure-north)`);
  t.match(f.fix, /^Allow aws-east's NAT source addresses instead \(ipBlock cidr 203\.0\.113\.10\/32\)\. Allow azure-north's pod range /);
  const unknown = only(RULE, ingressFrom([ns({ matchLabels: { [KEY]: "somewhere-else" } })]));
  t.match(unknown.fix, /^Match remote traffic by address with an ipBlock instead\. /, "an undeclared cluster name");
});

t.test("NotIn [local] and DoesNotExist", async (t) => {
  const notIn = only(RULE, ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "NotIn", values: ["gcp-west"] }] })]));
  t.match(notIn.message, `${KEY} absent or not gcp-west`);
  const missing = only(RULE, egressTo([ns({ matchExpressions: [{ key: KEY, operator: "DoesNotExist" }] })]));
  t.match(missing.message, `${KEY} absent or not gcp-west`);
  t.equal(missing.path, "spec.egress[0].to[0].namespaceSelector");
});

t.test("combined with a podSelector in the same peer", async (t) => {
  const f = only(RULE, ingressFrom([{ namespaceSelector: { matchLabels: { [KEY]: "aws-east" } }, podSelector: { matchLabels: { app: "api" } } }]));
  t.equal(f.path, "spec.ingress[0].from[0].namespaceSelector");
});

t.test("selectors that can match a local namespace are silent", async (t) => {
  t.ok(silent(ingressFrom([ns({})])), "all namespaces");
  t.ok(silent(ingressFrom([ns({ matchLabels: { [KEY]: "gcp-west" } })])));
  t.ok(silent(ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "In", values: ["aws-east", "gcp-west"] }] })])));
  t.ok(silent(ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "NotIn", values: ["aws-east"] }] })])));
  t.ok(silent(ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "Exists" }] })])));
  t.ok(silent(ingressFrom([ns({ matchLabels: { team: "payments" } })])));
  t.ok(silent(ingressFrom([{ podSelector: { matchLabels: { [KEY]: "aws-east" } } }])), "a podSelector is about pod labels, not the namespace label");
  t.ok(silent(ingressFrom([ipBlock("10.200.0.0/16")])));
});

t.test("a selector that matches nothing for another reason is left to unsatisfiable-selector", async (t) => {
  const p = ingressFrom([ns({ matchLabels: { team: "a" }, matchExpressions: [{ key: "team", operator: "DoesNotExist" }] })]);
  t.ok(silent(p), "it does not claim the selector names another cluster");
  t.equal(findingsOf("unsatisfiable-selector", p).length, 1);
});

t.test("silent when the CNI resolves selectors across clusters", async (t) => {
  for (const scope of ["cilium-clustermesh", "calico-federation"]) {
    const loaded = withScope(scope);
    t.ok(silent(ingressFrom([ns({ matchLabels: { [KEY]: "aws-east" } })]), loaded), scope);
    t.ok(silent(ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "DoesNotExist" }] })]), loaded), scope);
  }
});

t.test("honours a custom clusterLabel", async (t) => {
  const custom = multicloud((d) => (d.clusterLabel = "example.com/cloud"));
  t.ok(silent(ingressFrom([ns({ matchLabels: { [KEY]: "aws-east" } })]), custom), "the default key is just a label now");
  t.match(only(RULE, ingressFrom([ns({ matchLabels: { "example.com/cloud": "aws-east" } })]), custom).message, "example.com/cloud in (aws-east)");
});

t.test("no config declares no cluster name: a selector on the cluster label is never denied", async (t) => {
  const none = defaultConfig();
  for (const facts of [{ origin: "offline" as const }, { namespacesNotLabelledLocal: new Map() }]) {
    for (const value of ["gcp-west", "local", "other"]) {
      const f = only(RULE, ingressFrom([ns({ matchLabels: { [KEY]: value } })]), none, facts);
      t.equal(f.action, "warn", value);
      t.match(f.message, /premise cluster-name-declared is unknown/);
    }
    t.ok(silent(ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "DoesNotExist" }] })]), none, facts), "names no cluster");
  }
});

t.test("action can be downgraded or turned off", async (t) => {
  const p = ingressFrom([ns({ matchLabels: { [KEY]: "aws-east" } })]);
  t.equal(only(RULE, p, multicloud((d) => (d.rules = { [RULE]: "warn" }))).action, "warn");
  t.ok(silent(p, multicloud((d) => (d.rules = { [RULE]: "off" }))));
});
