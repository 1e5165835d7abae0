/**
 * Provable means proven: each class of unstated assumption the engine used to take as fact now needs a premise
 * that holds, or the finding is only a warning naming the missing premise.
 */
import t from "tap";
import { defaultConfig, type ClusterFacts, type Finding, type LoadedConfig } from "../../policies/index.js";
import { egressTo, evaluate, ingressFrom, ipBlock, labelledCluster, multicloud } from "./helpers.js";

const KEY = "netguard.dev/cluster";
const ns = (namespaceSelector: unknown) => ({ namespaceSelector });

function one(rule: string, object: unknown, loaded: LoadedConfig, facts: ClusterFacts = labelledCluster): Finding {
  const found = evaluate(object, loaded, facts).findings.filter((f) => f.rule === rule);
  if (found.length !== 1) throw new Error(`expected one ${rule} finding, got ${JSON.stringify(found)}`);
  return found[0]!;
}
const denies = (rule: string, object: unknown, loaded: LoadedConfig, facts?: ClusterFacts): boolean =>
  evaluate(object, loaded, facts).findings.some((f) => f.rule === rule && f.action === "deny");
const premise = (f: Finding, id: string) => f.premises?.find((p) => p.id === id);

t.test("invented cluster name: without a config nothing on the cluster label is denied", async (t) => {
  const p = ingressFrom([ns({ matchLabels: { [KEY]: "gcp-west" } })]);
  t.notOk(denies("remote-cluster-selector", p, defaultConfig(), { origin: "offline" }), "the real cluster's own name");
  t.notOk(denies("remote-cluster-selector", p, defaultConfig()), "in a cluster too");
  t.equal(defaultConfig().config.cluster.name, undefined, "the default declares no name");
  const f = one("remote-cluster-selector", p, defaultConfig(), { origin: "offline" });
  t.equal(premise(f, "cluster-name-declared")?.status, "unknown");
});

t.test("label premise: established from the namespaces not labelled local", async (t) => {
  const aws = ingressFrom([ns({ matchLabels: { [KEY]: "aws-east" } })]);
  const absent = ingressFrom([ns({ matchExpressions: [{ key: KEY, operator: "DoesNotExist" }] })]);
  const loaded = multicloud();
  const kubeSystemUnlabelled: ClusterFacts = { namespacesNotLabelledLocal: new Map([["kube-system", undefined]]) };
  t.notOk(denies("remote-cluster-selector", absent, loaded, kubeSystemUnlabelled), "DoesNotExist matches the unlabelled kube-system");
  const f = one("remote-cluster-selector", absent, loaded, kubeSystemUnlabelled);
  t.equal(premise(f, "namespaces-labelled-and-guarded")?.status, "fails");
  t.match(f.message, /kube-system \(no netguard\.dev\/cluster\)/);
  t.ok(denies("remote-cluster-selector", aws, loaded, { origin: "offline" }), "offline, a selector requiring aws-east cannot match");
  const legacy: ClusterFacts = { namespacesNotLabelledLocal: new Map([["legacy", "aws-east"]]) };
  t.notOk(denies("remote-cluster-selector", aws, loaded, legacy), "a local namespace labelled aws-east");
  const named = ingressFrom([ns({ matchLabels: { [KEY]: "aws-east", "kubernetes.io/metadata.name": "payments" } })]);
  t.ok(denies("remote-cluster-selector", named, loaded, legacy), "a selector pinned to another namespace name cannot match legacy");
  t.notOk(denies("remote-cluster-selector", aws, loaded, {}), "labels unknown (cache not synced): warn");
  t.equal(premise(one("remote-cluster-selector", aws, loaded, {}), "namespaces-labelled-and-guarded")?.status, "unknown");
  const offline = one("remote-cluster-selector", aws, loaded, { origin: "offline" });
  t.equal(offline.action, "deny", "offline the label premise is assumed");
  t.equal(premise(offline, "namespaces-labelled-and-guarded")?.status, "assumed");
});

t.test("CNI semantics: named ports to ipBlocks are provable only under Calico", async (t) => {
  const p = egressTo([ipBlock("192.0.2.0/24")], [{ protocol: "TCP", port: "https" }]);
  const cni = (value: string) => multicloud((d) => ((d.cluster as Record<string, unknown>).cni = value));
  t.ok(denies("named-port-to-cidr", p, cni("calico")), "calico");
  t.notOk(denies("named-port-to-cidr", p, cni("cilium")), "cilium applies the number to ipBlock peers too");
  t.equal(premise(one("named-port-to-cidr", p, cni("cilium")), "named-ports-per-endpoint")?.status, "fails");
  t.notOk(denies("named-port-to-cidr", p, cni("generic")), "generic: unknown");
  t.match(one("named-port-to-cidr", p, cni("generic")).message, /would deny once cluster\.cni declares calico/);
  t.notOk(denies("named-port-to-cidr", p, cni("calico"), { ...labelledCluster, detectedCni: "cilium" }), "the cluster's CRDs say otherwise");
});

t.test("undeclared means unknown: an IPv6 block with only IPv4 pod ranges declared", async (t) => {
  const v4only = multicloud((d) => {
    const cluster = d.cluster as Record<string, unknown>;
    cluster.podCIDRs = ["10.8.0.0/14"];
    cluster.nodeCIDRs = ["10.0.0.0/20"];
  });
  const p = egressTo([ipBlock("fd00:8::/64")], [{ port: "https" }]);
  const f = one("named-port-to-cidr", p, v4only);
  t.equal(f.action, "warn", "fd00:8::/64 may well be this cluster's pods");
  t.match(f.message, /would deny once `cluster\.podCIDRs` declares the IPv6 pod range/);
  t.ok(denies("named-port-to-cidr", egressTo([ipBlock("192.0.2.0/24")], [{ port: "https" }]), v4only), "IPv4 is declared");
});

t.test("undeclared means unknown: a routed SNAT-to-nodes remote without node ranges", async (t) => {
  const noNodes = multicloud((d) => {
    const onprem = (d.remoteClusters as Record<string, unknown>[])[2]!;
    onprem.nodeCIDRs = [];
  });
  const p = ingressFrom([ipBlock("10.210.0.0/16")]);
  t.ok(denies("nat-hidden-cidr", p, multicloud()), "node ranges declared outside the pod range");
  const f = one("nat-hidden-cidr", p, noNodes);
  t.equal(f.action, "warn", "on AWS VPC CNI and Azure CNI the nodes sit inside the pod subnet");
  t.equal(premise(f, "remote-node-ranges-declared:onprem-south:ipv4")?.status, "unknown");
});

t.test("undeclared means unknown: a NATed remote's range may be this cluster's own when local ranges are undeclared", async (t) => {
  const noLocal = multicloud((d) => {
    const cluster = d.cluster as Record<string, unknown>;
    cluster.podCIDRs = [];
    cluster.nodeCIDRs = [];
  });
  const p = ingressFrom([ipBlock("10.100.0.0/16")]);
  t.ok(denies("nat-hidden-cidr", p, multicloud()));
  t.notOk(denies("nat-hidden-cidr", p, noLocal));
  t.equal(premise(one("nat-hidden-cidr", p, noLocal), "local-pod-ranges-declared:ipv4")?.status, "unknown");
});

t.test("undeclared means unknown: a routed remote without declared ranges may carry the flagged addresses", async (t) => {
  const undeclared = multicloud((d) => {
    const azure = (d.remoteClusters as Record<string, unknown>[])[1]!;
    azure.podCIDRs = [];
    azure.nodeCIDRs = [];
  });
  const p = ingressFrom([ipBlock("10.100.0.0/16")]);
  const f = one("nat-hidden-cidr", p, undeclared);
  t.equal(f.action, "warn", "azure-north's addresses are routed here, and unknown");
  t.equal(premise(f, "remote-pod-ranges-declared:azure-north:ipv4")?.status, "unknown");
});

t.test("IPv4-mapped IPv6 blocks are read both ways: a denial holds under both readings", async (t) => {
  const mappedLocalPods = egressTo([ipBlock("::ffff:10.8.0.0/112")], [{ port: "https" }]);
  t.notOk(denies("named-port-to-cidr", mappedLocalPods, multicloud()), "Go-based CNIs read it as 10.8.0.0/16, local pods");
  const mappedExternal = egressTo([ipBlock("::ffff:192.0.2.0/120")], [{ port: "https" }]);
  t.ok(denies("named-port-to-cidr", mappedExternal, multicloud()), "external under both readings");
  const mappedHidden = ingressFrom([ipBlock("::ffff:10.100.0.0/112")]);
  t.ok(denies("nat-hidden-cidr", mappedHidden, multicloud()), "hidden as IPv4, and no packet carries an IPv4-mapped address as IPv6");
  const empty = ingressFrom([ipBlock("::ffff:10.0.0.0/104", ["::ffff:10.0.0.0/105", "::ffff:10.128.0.0/105"])]);
  t.ok(denies("empty-ipblock", empty, multicloud()), "empty under both readings");
});

t.test("premises travel with every provable finding; likely findings carry none", async (t) => {
  const f = one("nat-hidden-cidr", ingressFrom([ipBlock("10.100.0.0/16")]), multicloud());
  t.same(
    f.premises?.map((p) => [p.id, p.status]),
    [
      ["local-pod-ranges-declared:ipv4", "holds"],
      ["local-node-ranges-declared:ipv4", "holds"],
      ["remote-pod-ranges-declared:azure-north:ipv4", "holds"],
      ["remote-node-ranges-declared:azure-north:ipv4", "holds"],
      ["remote-pod-ranges-declared:onprem-south:ipv4", "holds"],
      ["remote-node-ranges-declared:onprem-south:ipv4", "holds"],
      ["remote-nat-source-ranges-declared:aws-east:ipv4", "holds"],
    ],
  );
  const likely = evaluate(ingressFrom([ipBlock("10.8.0.0/16")]), multicloud()).findings.find((x) => x.rule === "ipblock-local-pods");
  t.equal(likely?.premises, undefined);
});

t.test("routed remotes' service ranges: pods here reach them, so egress needs them declared", async (t) => {
  const toAwsPods = egressTo([ipBlock("10.100.0.0/16")]);
  const services = (azure: string[], onprem: string[]) =>
    multicloud((d) => {
      const remotes = d.remoteClusters as Record<string, unknown>[];
      remotes[1]!.serviceCIDRs = azure;
      remotes[2]!.serviceCIDRs = onprem;
    });
  const f = one("nat-hidden-cidr", toAwsPods, services([], ["10.212.0.0/20"]));
  t.equal(f.action, "warn", "azure-north's ClusterIPs may be 10.100.0.0/16 too");
  t.equal(premise(f, "remote-service-ranges-declared:azure-north:ipv4")?.status, "unknown");
  t.match(f.message, /would deny once `remoteClusters\[1\]\.serviceCIDRs` declares the IPv4 service range of azure-north/);
  t.ok(denies("nat-hidden-cidr", toAwsPods, services(["10.202.0.0/20"], ["10.212.0.0/20"])), "declared elsewhere: deny");
  const fromAwsPods = one("nat-hidden-cidr", ingressFrom([ipBlock("10.100.0.0/16")]), services([], []));
  t.equal(fromAwsPods.action, "deny", "ingress: a service address is never a packet's source");
  t.equal(premise(fromAwsPods, "remote-service-ranges-declared:azure-north:ipv4"), undefined);
});

t.test("nat remotes' translated addresses: undeclared, a NAT gateway may sit inside the flagged block", async (t) => {
  const nat = (natSourceCIDRs: string[], exposedCIDRs: string[]) =>
    multicloud((d) => {
      const aws = (d.remoteClusters as Record<string, unknown>[])[0]!;
      aws.natSourceCIDRs = natSourceCIDRs;
      aws.exposedCIDRs = exposedCIDRs;
      (d.remoteClusters as Record<string, unknown>[])[1]!.serviceCIDRs = ["10.202.0.0/20"];
      (d.remoteClusters as Record<string, unknown>[])[2]!.serviceCIDRs = ["10.212.0.0/20"];
    });
  const fromAwsNodes = ingressFrom([ipBlock("10.102.0.0/20")]);
  const f = one("nat-hidden-cidr", fromAwsNodes, nat([], ["198.51.100.0/28"]));
  t.equal(f.action, "warn", "a private NAT gateway in aws-east's node range (10.102.0.5) sends from there");
  t.equal(premise(f, "remote-nat-source-ranges-declared:aws-east:ipv4")?.status, "unknown");
  t.match(f.message, /natSourceCIDRs` declares the IPv4 NAT source range of aws-east/);
  t.ok(denies("nat-hidden-cidr", fromAwsNodes, nat(["203.0.113.10/32"], [])), "NAT sources declared; exposed addresses do not matter for ingress");
  const toAwsNodes = egressTo([ipBlock("10.102.0.0/20")]);
  t.equal(premise(one("nat-hidden-cidr", toAwsNodes, nat(["203.0.113.10/32"], [])), "remote-exposed-ranges-declared:aws-east:ipv4")?.status, "unknown", "egress needs exposedCIDRs");
  t.ok(denies("nat-hidden-cidr", toAwsNodes, nat([], ["198.51.100.0/28"])), "exposed declared; NAT sources do not matter for egress");
});

t.test("label drift: namespaces the webhooks do not guard may carry any cluster label later", async (t) => {
  const loaded = multicloud();
  const kubeSystemNoLabel = ingressFrom([ns({ matchLabels: { "kubernetes.io/metadata.name": "kube-system" }, matchExpressions: [{ key: KEY, operator: "DoesNotExist" }] })]);
  const f = one("remote-cluster-selector", kubeSystemNoLabel, loaded, labelledCluster);
  t.equal(f.action, "warn", "labelled today, but nothing stops kube-system losing the label");
  t.equal(premise(f, "namespaces-labelled-and-guarded")?.status, "unknown");
  t.match(f.message, /would match kube-system if its netguard\.dev\/cluster were changed or removed/);
  t.ok(denies("remote-cluster-selector", kubeSystemNoLabel, loaded, { origin: "offline" }), "offline the cluster's label state is assumed");
  const aws = ingressFrom([ns({ matchLabels: { [KEY]: "aws-east" } })]);
  t.match(one("remote-cluster-selector", aws, loaded, labelledCluster).message, /kube-system, netguard-system, kube-public, kube-node-lease/, "exempt namespaces count as unguarded");
  const guardedOnly = ingressFrom([ns({ matchLabels: { [KEY]: "aws-east" }, matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["payments", "shop"] }] })]);
  t.ok(denies("remote-cluster-selector", guardedOnly, loaded, labelledCluster), "a selector that only names guarded namespaces: today's labels are guarded");
  const exempt = multicloud((d) => (d.exemptNamespaces = ["shop"]));
  t.notOk(denies("remote-cluster-selector", guardedOnly, exempt, labelledCluster), "an exempt namespace counts as unguarded");
  const audit = multicloud((d) => (d.mode = "audit"));
  t.equal(one("remote-cluster-selector", guardedOnly, audit, labelledCluster).action, "deny", "audit mode predicts enforce: the same decision");
});
