/** The topology from the cluster's API: readers, merging, drift, descriptors, peer import, and the premises they feed. */
import t from "tap";
import {
  buildDescriptor,
  importPeers,
  liveFromDescriptor,
  liveTopology,
  READERS,
  readDescriptor,
  readPeerDescriptors,
  topologyDrift,
  topologyFindings,
  type ClusterDescriptor,
  type LiveTopology,
  type PeerFacts,
  type Reading,
  type SourceState,
} from "../../policies/index.js";
import { egressTo, evaluate, ingressFrom, ipBlock, labelledCluster, multicloud, type Doc } from "./helpers.js";

const served = (...ids: SourceState["source"][]): SourceState[] => ids.map((source) => ({ source, state: "served" }));
const node = (name: string, podCIDRs: string[], ip?: string) => ({
  metadata: { name },
  spec: { podCIDRs },
  status: { addresses: [...(ip ? [{ type: "InternalIP", address: ip }] : []), { type: "ExternalIP", address: "34.1.2.3" }, { type: "Hostname", address: name }] },
});
const nodeReadings = (nodes: ReturnType<typeof node>[]): Reading[] => nodes.flatMap((n) => READERS.nodes(n as never));
const serviceCidr = (name: string, cidrs: string[]): Reading[] => READERS.servicecidrs({ metadata: { name }, spec: { cidrs } } as never);

/** gcp-west's own cluster as its API shows it: nodes in 10.8.x with addresses in 10.0.0.x, ServiceCIDR 10.12.0.0/20. */
function gcpWest(extraNodes: ReturnType<typeof node>[] = []): LiveTopology {
  const nodes = [node("n1", ["10.8.1.0/24", "fd00:8:0:1::/64"], "10.0.0.11"), node("n2", ["10.8.2.0/24"], "10.0.0.12"), ...extraNodes];
  return liveTopology([...nodeReadings(nodes), ...serviceCidr("kubernetes", ["10.12.0.0/20"])], served("ServiceCIDR", "Node.spec.podCIDRs", "Node.status.addresses"));
}

t.test("readers take ranges from the objects as the API serves them", async (t) => {
  t.same(
    READERS.nodes(node("a", ["10.8.1.0/24"], "10.0.0.5") as never).map((r) => [r.source, r.cidr, r.object]),
    [
      ["Node.spec.podCIDRs", "10.8.1.0/24", "node/a"],
      ["Node.status.addresses", "10.0.0.5/32", "node/a"],
    ],
    "InternalIP only: ExternalIPs are a cloud's NAT, Hostname is no address",
  );
  t.same(READERS.nodes({ metadata: { name: "old" }, spec: { podCIDR: "10.8.9.0/24" } } as never).map((r) => r.cidr), ["10.8.9.0/24"], "spec.podCIDR when podCIDRs is absent");
  t.same(READERS.kubernetesService({ spec: { clusterIP: "10.12.0.1", clusterIPs: ["10.12.0.1", "fd00:12::1"] } } as never).map((r) => r.cidr), ["10.12.0.1/32", "fd00:12::1/128"]);
  t.same(READERS.calicoIpPools({ metadata: { name: "default-ipv4-ippool" }, spec: { cidr: "192.168.0.0/16" } } as never).map((r) => r.cidr), ["192.168.0.0/16"]);
  t.same(READERS.ciliumNodes({ metadata: { name: "n" }, spec: { ipam: { podCIDRs: ["10.0.1.0/24"] } } } as never).map((r) => r.cidr), ["10.0.1.0/24"]);
  t.same(READERS.ciliumPodIpPools({ metadata: { name: "p" }, spec: { ipv4: { cidrs: ["10.20.0.0/16"] }, ipv6: { cidrs: ["fd00:20::/96"] } } } as never).map((r) => r.cidr), ["10.20.0.0/16", "fd00:20::/96"]);
  t.same(READERS.nodes({ metadata: { name: "x" }, spec: { podCIDRs: ["nonsense", 7] }, status: { addresses: "no" } } as never), [], "what does not parse is no reading, never a crash");
});

t.test("5,000 nodes' /24s merge into the blocks they tile, with who they came from", async (t) => {
  const nodes = Array.from({ length: 5000 }, (_, i) => node(`n${i}`, [`10.${8 + Math.floor(i / 256)}.${i % 256}.0/24`], `10.1.${i >> 8}.${i & 255}`));
  const live = liveTopology(nodeReadings(nodes), served("Node.spec.podCIDRs", "Node.status.addresses"));
  const pods = live.ranges.filter((r) => r.kind === "pod");
  t.same(pods.map((r) => r.cidr).slice(0, 3), ["10.8.0.0/13", "10.16.0.0/13", "10.24.0.0/15"], "the /24s of 10.8.0.0 to 10.27.135.0 in a handful of blocks");
  t.ok(pods.length <= 8, `${pods.length} blocks`);
  t.equal(pods.reduce((n, r) => n + r.count, 0), 5000, "every node counted once");
  t.same(pods[0]!.objects, ["node/n0", "node/n1", "node/n2"], "three named, the rest counted");
  t.ok(live.ranges.filter((r) => r.kind === "node").length <= 8, "node addresses merge too");
});

t.test("a source that is not served says nothing: its readings are ignored", async (t) => {
  const live = liveTopology(serviceCidr("kubernetes", ["10.99.0.0/16"]), [{ source: "ServiceCIDR", state: "absent" }]);
  t.same(live.ranges, []);
  t.same(topologyDrift(multicloud(), live), [], "and no declared range is called unsupported by a silent source");
});

t.test("drift: a live range the config misses, naming the field to change", async (t) => {
  const live = gcpWest([node("n3", ["10.20.0.0/24"], "10.30.0.7")]);
  const drift = topologyDrift(multicloud(), live);
  const pod = drift.find((d) => d.path === "cluster.podCIDRs");
  t.match(pod?.message, /10\.20\.0\.0\/24 for pod addresses \(nodes \(spec\.podCIDRs\): node\/n3\)/);
  t.equal(pod?.fix, "Add 10.20.0.0/24 to cluster.podCIDRs.");
  t.equal(drift.find((d) => d.path === "cluster.nodeCIDRs")?.fix, "Add 10.30.0.7/32 to cluster.nodeCIDRs.");
  t.equal(drift.length, 2, "the covered ranges are no drift");
  t.ok(drift.every((d) => d.action === "warn" && d.rule === "topology-drift"), "reported, never denied");
});

t.test("drift: a declared range an authoritative source lacks", async (t) => {
  const live = liveTopology(serviceCidr("kubernetes", ["10.96.0.0/12"]), served("ServiceCIDR"));
  const drift = topologyDrift(multicloud(), live);
  t.match(drift.find((d) => d.path === "cluster.serviceCIDRs[0]")?.message, /declares 10\.12\.0\.0\/20, but no servicecidrs\.networking\.k8s\.io holds it/);
  t.match(drift.find((d) => d.path === "cluster.serviceCIDRs")?.fix, /Add 10\.96\.0\.0\/12/);
  const nodesOnly = gcpWest();
  t.notOk(
    topologyDrift(multicloud((d) => ((d.cluster as Doc).podCIDRs = ["10.8.0.0/14", "10.64.0.0/16", "fd00:8::/56"])), nodesOnly).some((d) => d.path.startsWith("cluster.podCIDRs[")),
    "Node.spec.podCIDRs is never authoritative: a declared pod range no node has may still be a CNI IPAM's",
  );
  const calico = liveTopology(READERS.calicoIpPools({ metadata: { name: "pool" }, spec: { cidr: "10.8.0.0/14" } } as never), served("calico-ippool"));
  const extra = multicloud((d) => ((d.cluster as Doc).podCIDRs = ["10.8.0.0/14", "10.64.0.0/16"]));
  t.ok(topologyDrift(extra, calico).some((d) => d.path === "cluster.podCIDRs[1]"), "Calico IPPools are authoritative with cni: calico");
  const generic = multicloud((d) => (((d.cluster as Doc).podCIDRs = ["10.8.0.0/14", "10.64.0.0/16"]), ((d.cluster as Doc).cni = "generic")));
  t.notOk(topologyDrift(generic, calico).some((d) => d.path === "cluster.podCIDRs[1]"), "but not when another IPAM may address pods");
});

t.test("premise: a provable finding whose block holds live, undeclared local addresses does not deny", async (t) => {
  const hidden = ingressFrom([ipBlock("10.100.1.0/24")]);
  const denied = (facts = labelledCluster) => evaluate(hidden, multicloud(), facts).findings.find((f) => f.rule === "nat-hidden-cidr");
  t.equal(denied()?.action, "deny", "aws-east's NAT-hidden pod range is denied on the declared topology");
  t.equal(denied({ ...labelledCluster, liveTopology: gcpWest() })?.action, "deny", "and still with a live topology that agrees");
  t.equal(denied({ ...labelledCluster, liveTopology: gcpWest() })?.premises?.find((p) => p.id === "live-ranges-declared")?.status, "holds");
  const f = denied({ ...labelledCluster, liveTopology: gcpWest([node("n9", ["10.100.1.0/25"])]) });
  t.equal(f?.action, "warn", "a local node has pod addresses there: the block is not provably unmatched");
  const p = f?.premises?.find((x) => x.id === "live-ranges-declared");
  t.equal(p?.status, "fails");
  t.match(p?.detail, /10\.100\.1\.0\/25 \(pods, node\/n9\), undeclared in cluster\.podCIDRs/);
  t.equal(denied({ ...labelledCluster, liveTopology: gcpWest([node("n9", ["10.50.0.0/24"])]) })?.action, "deny", "drift elsewhere does not touch this block");
});

const descriptorOf = (live: LiveTopology = gcpWest()) => buildDescriptor(multicloud(), live, ["payments", "default"], new Date("2026-12-01T00:00:00Z"));

t.test("the descriptor: a ready remoteClusters[] entry, with what it could not discover", async (t) => {
  const d = descriptorOf(gcpWest([node("n3", ["10.20.0.0/24"])]));
  t.same(d.remoteCluster.podCIDRs, ["10.8.0.0/14", "10.20.0.0/24", "fd00:8::/56"], "declared and discovered");
  t.same(d.remoteCluster.serviceCIDRs, ["10.12.0.0/20"]);
  t.same(d.remoteCluster.namespaces, ["default", "payments"]);
  t.ok(d.undiscovered.some((u) => u.field === "connectivity"), "connectivity is the importing side's");
  t.ok(d.undiscovered.some((u) => u.field === "natSourceCIDRs"), "no API shows a NAT gateway");
  t.match(d.undiscovered.find((u) => u.field === "podCIDRs")?.why, /Calico IPAM ignores the node field/, "node podCIDRs are not the whole story");
  t.equal(d.drift.length, 1, "the drift travels with it");
  const typo = buildDescriptor(multicloud((x) => ((x.cluster as Doc).serviceCIDRs = ["10.12.0.0/20", "10.99.0.0/16"])), gcpWest(), [], new Date());
  t.same(typo.remoteCluster.serviceCIDRs, ["10.12.0.0/20"], "a declared range the allocator does not have is not published");
  const roundTrip = readDescriptor(JSON.parse(JSON.stringify(d)));
  t.ok(roundTrip.ok, "it reads back");
  t.same(roundTrip.ok && liveFromDescriptor(roundTrip.descriptor), { ranges: d.discovered, sources: d.sources.map(({ source, state }) => ({ source, state })) }, "with its live topology");
});

t.test("a descriptor from a peer is validated, with the path of each problem", async (t) => {
  const d = descriptorOf();
  const bad = readDescriptor({ ...d, remoteCluster: { ...d.remoteCluster, podCIDRs: ["10.8.0.0/33"] } });
  t.notOk(bad.ok);
  t.match(!bad.ok && bad.problems, [{ path: "remoteCluster.podCIDRs[0]" }]);
  t.notOk(readDescriptor({ kind: "ConfigMap" }).ok);
  t.notOk(readDescriptor({ ...d, generatedAt: "yesterday" }).ok);
  t.ok(readDescriptor({ ...d, futureField: 1 }).ok, "a newer peer's extra fields are ignored");
  t.equal(liveFromDescriptor({ ...d, discovered: [{ ...d.discovered[0]!, source: "made-up" as never }] }), undefined, "an unknown source: nothing is read from it");
});

/** Cluster B's view of aws-east: nat, nothing declared but the link, the descriptor to fill the rest. */
const importing = multicloud((d) => {
  const aws = (d.remoteClusters as Doc[])[0]!;
  for (const f of ["podCIDRs", "serviceCIDRs", "nodeCIDRs", "namespaces"]) delete aws[f];
  aws.descriptorFrom = { secretName: "aws-east-kubeconfig" };
});
const awsDescriptor = (podCIDRs: string[]): ClusterDescriptor => ({
  ...descriptorOf(),
  remoteCluster: { name: "aws-east", podCIDRs, serviceCIDRs: ["10.101.0.0/20"], nodeCIDRs: ["10.102.0.0/20"], natSourceCIDRs: ["203.0.113.10/32"], exposedCIDRs: ["198.51.100.0/28"], namespaces: ["payments"] },
});
const peers = (descriptor: ClusterDescriptor | undefined, readAt: string, now: string, error?: string): PeerFacts => ({
  items: new Map([["aws-east", { ...(descriptor ? { descriptor, readAt } : {}), attemptedAt: now, ...(error ? { error } : {}) }]]),
  now: new Date(now),
});

t.test("import: the descriptor fills what the config leaves out, and the verdict follows it", async (t) => {
  const policy = ingressFrom([ipBlock("10.140.1.0/24")]);
  const verdict = (facts: PeerFacts | undefined) => evaluate(policy, importing, { ...labelledCluster, ...(facts ? { peers: facts } : {}) }).findings.find((f) => f.rule === "nat-hidden-cidr");
  t.equal(verdict(undefined), undefined, "nothing known of aws-east: no finding");
  const one = peers(awsDescriptor(["10.100.0.0/16"]), "2026-12-06T10:00:00Z", "2026-12-06T10:01:00Z");
  t.equal(verdict(one), undefined, "a range aws-east does not have");
  const two = peers(awsDescriptor(["10.100.0.0/16", "10.140.0.0/16"]), "2026-12-06T10:02:00Z", "2026-12-06T10:03:00Z");
  const f = verdict(two);
  t.equal(f?.action, "deny", "aws-east gained a pod range: the block is NAT-hidden now");
  t.match(f?.message, /10\.140\.0\.0\/16/, "the message names the descriptor's range");
  t.equal(f?.premises?.find((p) => p.id === "remote-descriptor-current:aws-east")?.status, "holds");
  t.same(importPeers(importing, two).findings, [], "nothing to report");
});

t.test("import: a stale descriptor is still used, but nothing resting on it denies", async (t) => {
  const policy = egressTo([ipBlock("10.100.1.0/24")]);
  const stale = peers(awsDescriptor(["10.100.0.0/16"]), "2026-12-06T10:00:00Z", "2026-12-06T11:00:00Z", "connect ECONNREFUSED 10.9.9.9:443");
  const f = evaluate(policy, importing, { ...labelledCluster, peers: stale }).findings.find((x) => x.rule === "nat-hidden-cidr");
  t.equal(f?.action, "warn");
  t.match(f?.premises?.find((p) => p.id === "remote-descriptor-current:aws-east")?.detail, /3600 s ago, more than its maxAgeSeconds 900/);
  const reported = importPeers(importing, stale).findings;
  t.match(reported, [{ rule: "descriptor-import", path: "remoteClusters[0].descriptorFrom", message: /could not be read \(connect ECONNREFUSED.*read at 2026-12-06T10:00:00Z \(3600 s ago\) is used, and it is stale/ }]);
});

t.test("import: declared values win, conflicts are reported; a descriptor of another cluster is refused", async (t) => {
  const declaring = multicloud((d) => ((d.remoteClusters as Doc[])[0]!.descriptorFrom = { secretName: "aws-east-kubeconfig" }));
  const result = importPeers(declaring, peers(awsDescriptor(["10.100.0.0/16", "10.140.0.0/16"]), "2026-12-06T10:00:00Z", "2026-12-06T10:00:10Z"));
  t.match(result.findings, [{ rule: "topology-drift", path: "remoteClusters[0].podCIDRs", message: /declares 10\.100\.0\.0\/16, fd00:100::\/56, but aws-east's descriptor shows 10\.100\.0\.0\/16, 10\.140\.0\.0\/16; the declared values are used/ }]);
  t.same(result.topology.remotes[0]!.pods.toCidrs(), ["10.100.0.0/16", "fd00:100::/56"]);
  const other = { ...awsDescriptor(["10.140.0.0/16"]), remoteCluster: { ...awsDescriptor([]).remoteCluster, name: "dc-north" } };
  const refused = importPeers(importing, peers(other, "2026-12-06T10:00:00Z", "2026-12-06T10:00:10Z"));
  t.match(refused.findings, [{ rule: "descriptor-import", message: /describes cluster dc-north, not aws-east; it is not used/ }]);
  t.same(refused.topology.remotes[0]!.pods.toCidrs(), []);
  t.match(topologyFindings(importing, {}), [{ rule: "descriptor-import", message: /has not been read yet/ }], "before the first read it says so");
});

t.test("stored imports read back; what does not parse is reported, not used", async (t) => {
  const entry = { descriptor: awsDescriptor(["10.100.0.0/16"]), readAt: "2026-12-06T10:00:00Z", attemptedAt: "2026-12-06T10:00:00Z" };
  const { peers: read, problems } = readPeerDescriptors({ "aws-east.json": JSON.stringify(entry), "x.json": "{", "y.json": "{}", other: "ignored" });
  t.same([...read.keys()], ["aws-east"]);
  t.equal(read.get("aws-east")?.readAt, entry.readAt);
  t.same(problems.map((p) => p.key), ["x.json", "y.json"]);
});
