import t from "tap";
import { defaultConfig } from "../../../policies/index.js";
import { egressTo, findingsOf, ingressFrom, ipBlock, multicloud, only, silentFor } from "../helpers.js";

const RULE = "partially-hidden-cidr";
const silent = silentFor(RULE);

t.test("a range half in a nat remote and half undeclared warns (IPv4)", async (t) => {
  // 10.100.0.0/15: pods 10.100/16 and services 10.101.0.0/20 are hidden; the rest is undeclared.
  const f = only(RULE, ingressFrom([ipBlock("10.100.0.0/15")]));
  t.equal(f.rule, RULE);
  t.equal(f.action, "warn");
  t.equal(f.certainty, "likely");
  t.equal(f.path, "spec.ingress[0].from[0].ipBlock");
  t.match(f.message, "part of ipBlock 10.100.0.0/15 (10.100.0.0/16, 10.101.0.0/20) is aws-east's pod range 10.100.0.0/16 and service range 10.101.0.0/20,");
  t.match(f.message, /NAT hides from this cluster: that part never matches/);
  t.equal(f.fix, "Add 10.100.0.0/16, 10.101.0.0/20 to except or narrow the cidr. Allow aws-east's NAT source addresses instead (ipBlock cidr 203.0.113.10/32).");
  t.notMatch(f.message, /No peer of/, "a likely finding never claims the rule is dead");
  t.equal(findingsOf("nat-hidden-cidr", ingressFrom([ipBlock("10.100.0.0/15")])).length, 0, "not provable");
});

t.test("IPv6: half of a /55 in a nat remote's pod range", async (t) => {
  const f = only(RULE, egressTo([ipBlock("fd00:100::/55")]));
  t.equal(f.path, "spec.egress[0].to[0].ipBlock");
  t.match(f.message, "(fd00:100::/56) is aws-east's pod range fd00:100::/56,");
  t.match(f.fix, "Dial aws-east through its exposed addresses instead (ipBlock cidr 198.51.100.0/28).");
});

t.test("a range within declared ranges, partly hidden, warns whatever the share", async (t) => {
  // pods (hidden) + the NAT source: entirely declared, the NAT source part is real.
  const loaded = multicloud((d) => {
    const remotes = d.remoteClusters as Record<string, unknown>[];
    remotes[0]!.natSourceCIDRs = ["10.102.0.0/24"];
  });
  const f = only(RULE, ingressFrom([ipBlock("10.102.0.0/20")]), loaded);
  t.match(f.message, "(10.102.1.0/24, 10.102.2.0/23, 10.102.4.0/22, 10.102.8.0/21)", "the hidden part, minimally");
  t.ok(silent(ingressFrom([ipBlock("10.102.0.0/24")]), loaded), "only the NAT source: nothing hidden");
});

t.test("routed remote with snatToNodes: pods hidden on ingress only", async (t) => {
  const f = only(RULE, ingressFrom([ipBlock("10.210.0.0/15")]));
  t.match(f.message, "onprem-south's pod range 10.210.0.0/16,");
  t.match(f.fix, "Allow onprem-south's node range (ipBlock cidr 10.211.0.0/20) instead: it rewrites pod sources to its node addresses.");
  t.ok(silent(egressTo([ipBlock("10.210.0.0/15")])));
});

t.test("broad ranges that mostly name unknown addresses are taken to mean everything", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("0.0.0.0/0")])));
  t.ok(silent(ingressFrom([ipBlock("10.0.0.0/8")])));
  t.ok(silent(egressTo([ipBlock("::/0")])));
  t.ok(silent(egressTo([ipBlock("fd00::/8")])));
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/15", ["10.100.0.0/16"])])), "only the /20 of services is hidden: a small share");
});

t.test("not partial: entirely hidden (that is nat-hidden-cidr) or nothing hidden", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/16")])));
  t.ok(silent(ingressFrom([ipBlock("fd00:100::/64")])));
  t.ok(silent(ingressFrom([ipBlock("10.200.0.0/15")])), "routed remote");
  t.ok(silent(ingressFrom([ipBlock("203.0.113.0/24")])));
  t.ok(silent(egressTo([ipBlock("198.51.100.0/24")])));
  t.ok(silent(ingressFrom([ipBlock("10.8.0.0/13")])), "local");
});

t.test("off by config; silent without topology", async (t) => {
  const off = multicloud((d) => (d.rules = { [RULE]: "off" }));
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/15")]), off));
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/15")]), defaultConfig()));
});
