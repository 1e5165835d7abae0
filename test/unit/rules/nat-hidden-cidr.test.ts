import t from "tap";
import { NO_PEER_SENTENCE, egressTo, findingsOf, ingressFrom, ipBlock, multicloud, multicloudFullyDeclared, only, policy, silentFor, withScope } from "../helpers.js";

const RULE = "nat-hidden-cidr";
const fires = (object: unknown, loaded = undefined as Parameters<typeof only>[2]) => only(RULE, object, loaded);
const silent = silentFor(RULE);

t.test("ingress from a NATed remote's pod range (IPv4) is denied", async (t) => {
  const f = fires(ingressFrom([ipBlock("10.100.0.0/16")]));
  t.equal(f.rule, RULE);
  t.equal(f.action, "deny");
  t.equal(f.certainty, "provable");
  t.equal(f.path, "spec.ingress[0].from[0].ipBlock");
  t.match(f.message, "ipBlock 10.100.0.0/16 lies entirely in aws-east's pod range 10.100.0.0/16;");
  t.notMatch(f.message, /fd00/, "only the ranges of the flagged block's family are named");
  t.match(f.message, /translated source addresses/);
  t.match(f.message, /never matches/);
  t.equal(
    f.fix,
    "Allow aws-east's NAT source addresses instead (ipBlock cidr 203.0.113.10/32). " +
      "Otherwise remove this peer; if it is the rule's only peer, remove the whole rule instead, because an empty `from` allows all traffic.",
    "the fix never suggests leaving from empty",
  );
});

t.test("ingress from a NATed remote's pod range (IPv6) is denied once its IPv6 NAT sources are declared", async (t) => {
  const undeclared = fires(ingressFrom([ipBlock("fd00:100::/64")]));
  t.equal(undeclared.action, "warn", "no IPv6 natSourceCIDRs: an IPv6 NAT gateway may send from inside the block");
  t.match(undeclared.message, /premise remote-nat-source-ranges-declared:aws-east:ipv6 is unknown/);
  const f = fires(ingressFrom([ipBlock("fd00:100::/64")]), multicloudFullyDeclared);
  t.equal(f.path, "spec.ingress[0].from[0].ipBlock");
  t.equal(f.action, "deny");
  t.match(f.message, "ipBlock fd00:100::/64 lies entirely in aws-east's pod range fd00:100::/56;");
  t.match(f.fix, "Allow aws-east's NAT source addresses instead (ipBlock cidr 2001:db8:113::10/128).");
  t.match(fires(ingressFrom([ipBlock("fd00:100::42/128")])).message, /fd00:100::42\/128/);
});

t.test("legacy zero-padded IPv4 is read as decimal", async (t) => {
  t.match(fires(ingressFrom([ipBlock("010.100.000.000/16")])).message, "ipBlock 010.100.000.000/16 lies entirely in aws-east's pod range");
  t.ok(silent(ingressFrom([ipBlock("010.008.000.000/16")])), "10.8.0.0/16 is local, not octal 8.8.0.0");
});

t.test("single addresses and service/node ranges of a nat remote are hidden too", async (t) => {
  t.match(fires(ingressFrom([ipBlock("10.100.3.4/32")])).message, /pod range/);
  t.match(fires(ingressFrom([ipBlock("10.101.0.0/24")])).message, "aws-east's service range 10.101.0.0/20");
  t.match(fires(ingressFrom([ipBlock("10.102.0.0/20")])).message, "aws-east's node range 10.102.0.0/20");
  const both = fires(egressTo([ipBlock("10.101.0.0/20")]));
  t.match(both.message, /service range/);
});

t.test("egress to a NATed remote's ranges is denied, with the exposed addresses as the fix", async (t) => {
  const undeclared = fires(egressTo([ipBlock("10.100.0.0/16")]));
  t.equal(undeclared.action, "warn", "pods here reach the routed remotes' ClusterIPs, and azure-north declares no service range");
  t.match(undeclared.message, /premise remote-service-ranges-declared:azure-north:ipv4 is unknown/);
  const f = fires(egressTo([ipBlock("10.100.0.0/16")]), multicloudFullyDeclared);
  t.equal(f.path, "spec.egress[0].to[0].ipBlock");
  t.equal(f.action, "deny");
  t.match(f.message, /pods here reach that cluster only through translated addresses/);
  t.match(f.fix, /^Dial aws-east through its exposed addresses instead \(ipBlock cidr 198\.51\.100\.0\/28\)\. /);
  t.match(f.fix, /an empty `to` allows all traffic/);
  const six = fires(egressTo([ipBlock("fd00:100:0:80::/64")]), multicloudFullyDeclared);
  t.equal(six.path, "spec.egress[0].to[0].ipBlock");
  t.equal(six.action, "deny");
});

t.test("exact path of the flagged peer among several rules and peers", async (t) => {
  const p = policy({
    ingress: [{ from: [{ podSelector: {} }] }, { from: [{ podSelector: {} }, ipBlock("10.100.0.0/16")] }],
    egress: [{ to: [ipBlock("192.0.2.0/24")] }, { to: [ipBlock("203.0.113.0/24"), { podSelector: {} }, ipBlock("10.102.0.0/24")] }],
  });
  t.same(
    findingsOf(RULE, p).map((f) => f.path),
    ["spec.egress[1].to[2].ipBlock", "spec.ingress[1].from[1].ipBlock"],
  );
});

t.test("except can carve a range down to hidden addresses only", async (t) => {
  // 10.100.0.0/15 = pods 10.100/16 + 10.101/16; excepting 10.101/16 leaves only pods.
  const f = fires(ingressFrom([ipBlock("10.100.0.0/15", ["10.101.0.0/16"])]));
  t.match(f.message, "ipBlock 10.100.0.0/15 lies entirely in aws-east's pod range");
  t.notMatch(f.message, /service range/, "only the remote ranges the peer still matches are named");
  t.ok(fires(ingressFrom([ipBlock("10.100.0.0/16", ["10.100.0.0/17"])])));
  t.ok(fires(ingressFrom([ipBlock("fd00:100::/56", ["fd00:100::/57"])])), "IPv6 except");
});

t.test("a range reaching outside the declared ranges is not provable", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/15")])), "10.101.16.0+ is undeclared");
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/15", ["10.100.0.0/16"])])), "carving leaves undeclared space");
  t.ok(silent(ingressFrom([ipBlock("0.0.0.0/0")])));
  t.ok(silent(egressTo([ipBlock("10.0.0.0/8")])));
  t.ok(silent(ingressFrom([ipBlock("fd00:100::/55")])), "IPv6 half undeclared");
  t.ok(silent(ingressFrom([ipBlock("::/0")])));
});

t.test("addresses traffic does carry are never hidden", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("203.0.113.10/32")])), "the NAT source address");
  t.ok(silent(egressTo([ipBlock("198.51.100.0/28")])), "the exposed addresses");
  t.ok(silent(ingressFrom([ipBlock("10.8.0.0/16")])), "local pods");
  t.ok(silent(ingressFrom([ipBlock("10.0.0.0/20")])), "local nodes");
  t.ok(silent(ingressFrom([ipBlock("fd00:8::/64")])), "local IPv6 pods");
  t.ok(silent(ingressFrom([ipBlock("10.200.0.0/16")])), "routed remote without SNAT: pod IPs preserved");
  t.ok(silent(egressTo([ipBlock("fd00:200::/64")])), "routed remote, egress, IPv6");
  t.ok(silent(ingressFrom([ipBlock("10.211.0.0/20")])), "SNAT remote's node range carries its traffic");
});

t.test("a range touching the NAT source addresses is not provable", async (t) => {
  // The NAT gateway lives inside aws-east's node range.
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[0]!.natSourceCIDRs = ["10.102.0.10/32"];
    remotes[0]!.exposedCIDRs = ["10.101.0.0/28"];
  });
  t.ok(silent(ingressFrom([ipBlock("10.102.0.0/20")]), loaded), "ingress range includes the NAT source");
  t.ok(silent(ingressFrom([ipBlock("10.102.0.10/32")]), loaded));
  t.ok(silent(egressTo([ipBlock("10.101.0.0/20")]), loaded), "egress range includes the exposed addresses");
  // Carving the NAT source out leaves only hidden addresses again.
  t.ok(only(RULE, ingressFrom([ipBlock("10.102.0.0/20", ["10.102.0.10/32"])]), loaded));
  t.ok(only(RULE, egressTo([ipBlock("10.101.0.0/20", ["10.101.0.0/28"])]), loaded));
  t.ok(only(RULE, ingressFrom([ipBlock("10.102.0.0/24", ["10.102.0.8/29"])]), loaded));
});

t.test("routed remote with snatToNodes hides its pod sources on ingress only", async (t) => {
  const f = fires(ingressFrom([ipBlock("10.210.0.0/16")]));
  t.match(f.message, "onprem-south's pod range 10.210.0.0/16;");
  t.match(f.fix, /^Allow onprem-south's node range \(ipBlock cidr 10\.211\.0\.0\/20\) instead: it rewrites pod sources to its node addresses\. /);
  t.notMatch(f.fix, /Onprem-south/, "cluster names are kept as written");
  t.ok(fires(ingressFrom([ipBlock("fd00:210::1/128")])), "IPv6");
  t.ok(silent(egressTo([ipBlock("10.210.0.0/16")])), "egress to its pods is routed");
  t.ok(silent(egressTo([ipBlock("fd00:210::/64")])));
});

t.test("a nat remote without natSourceCIDRs or exposedCIDRs: the fix says what to declare", async (t) => {
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[0]!.natSourceCIDRs = [];
    remotes[0]!.exposedCIDRs = [];
  });
  t.match(only(RULE, ingressFrom([ipBlock("10.100.0.0/16")]), loaded).fix, /^Declare aws-east's natSourceCIDRs in the netguard config/);
  t.match(only(RULE, egressTo([ipBlock("10.100.0.0/16")]), loaded).fix, /^Declare aws-east's exposedCIDRs in the netguard config/);
});

t.test("the fix suggests addresses of the flagged block's family, one ipBlock each", async (t) => {
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[0]!.natSourceCIDRs = ["203.0.113.10/32", "2001:db8:113::10/128", "203.0.113.20/32"];
  });
  t.match(
    only(RULE, ingressFrom([ipBlock("10.100.0.0/16")]), loaded).fix,
    "Allow aws-east's NAT source addresses instead (ipBlock cidr 203.0.113.10/32 or ipBlock cidr 203.0.113.20/32).",
  );
  t.match(only(RULE, ingressFrom([ipBlock("fd00:100::/64")]), loaded).fix, "Allow aws-east's NAT source addresses instead (ipBlock cidr 2001:db8:113::10/128).");
});

t.test("a block hidden in two remotes: one capitalised sentence per remote", async (t) => {
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[0]!.nodeCIDRs = ["10.102.0.0/16"];
    remotes[2]!.podCIDRs = ["10.103.0.0/16"];
  });
  const f = only(RULE, ingressFrom([ipBlock("10.102.0.0/15")]), loaded);
  t.match(f.message, "lies entirely in aws-east's node range 10.102.0.0/16; onprem-south's pod range 10.103.0.0/16;");
  t.equal(
    f.fix,
    "Allow aws-east's NAT source addresses instead (ipBlock cidr 203.0.113.10/32). " +
      "Allow onprem-south's node range (ipBlock cidr 10.211.0.0/20) instead: it rewrites pod sources to its node addresses. " +
      "Otherwise remove this peer; if it is the rule's only peer, remove the whole rule instead, because an empty `from` allows all traffic.",
  );
});

t.test("a remote range that overlaps a local range is not hidden", async (t) => {
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[0]!.serviceCIDRs = ["10.12.0.0/20"]; // same as the local service range
  });
  t.ok(silent(ingressFrom([ipBlock("10.12.0.0/24")]), loaded));
  t.ok(silent(egressTo([ipBlock("10.12.0.0/20")]), loaded));
});

t.test("one remote's hidden range carried by another remote is not hidden", async (t) => {
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[1]!.podCIDRs = ["10.100.128.0/17", "fd00:200::/56"]; // azure-north (routed) overlaps aws-east pods
  });
  t.ok(only(RULE, ingressFrom([ipBlock("10.100.0.0/17")]), loaded), "the part only aws-east has is still hidden");
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/16")]), loaded), "azure-north traffic carries 10.100.128.0/17");
});

t.test("the rule applies whatever the policyScope (it is about addresses, not selectors)", async (t) => {
  const loaded = withScope("cilium-clustermesh");
  t.ok(only(RULE, ingressFrom([ipBlock("10.100.0.0/16")]), loaded));
});

t.test("an only peer makes the whole rule dead: the message says so", async (t) => {
  const f = fires(ingressFrom([ipBlock("10.100.0.0/16")]));
  t.match(f.message, NO_PEER_SENTENCE("spec.ingress[0]"));
  t.match(f.message, /allows nothing/);
  const withFriend = fires(ingressFrom([ipBlock("10.100.0.0/16"), ipBlock("203.0.113.10/32")]));
  t.notMatch(withFriend.message, /No peer of/);
});

t.test("silent with the default config (no topology)", async (t) => {
  const { defaultConfig } = await import("../../../policies/index.js");
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/16")]), defaultConfig()));
});
