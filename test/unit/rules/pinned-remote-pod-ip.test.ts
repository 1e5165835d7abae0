import t from "tap";
import { egressTo, findingsOf, ingressFrom, ipBlock, only, silentFor } from "../helpers.js";

const RULE = "pinned-remote-pod-ip";
const silent = silentFor(RULE);

t.test("a /32 inside a routed remote's pod range", async (t) => {
  const f = only(RULE, ingressFrom([ipBlock("10.200.4.17/32")]));
  t.equal(f.rule, RULE);
  t.equal(f.action, "warn");
  t.equal(f.certainty, "likely");
  t.equal(f.path, "spec.ingress[0].from[0].ipBlock");
  t.match(f.message, "ipBlock 10.200.4.17/32 pins individual pod addresses of azure-north; pod IPs change");
  t.equal(f.fix, "Allow a stable range instead: azure-north's pod range (ipBlock cidr 10.200.0.0/16), or a dedicated IP pool or egress gateway for those pods.");
});

t.test("the /28 and /124 boundaries", async (t) => {
  t.ok(only(RULE, ingressFrom([ipBlock("10.200.4.16/28")])), "IPv4 /28 fires");
  t.ok(only(RULE, egressTo([ipBlock("10.200.4.0/31")])), "IPv4 /31 fires");
  t.ok(silent(ingressFrom([ipBlock("10.200.4.0/27")])), "IPv4 /27 is a pool, not a pod");
  t.ok(only(RULE, ingressFrom([ipBlock("fd00:200::17/128")])), "IPv6 /128 fires");
  const six = only(RULE, egressTo([ipBlock("fd00:200::10/124")]));
  t.equal(six.path, "spec.egress[0].to[0].ipBlock");
  t.match(six.message, "fd00:200::10/124");
  t.match(six.fix, "azure-north's pod range (ipBlock cidr fd00:200::/56),", "the flagged block's family");
  t.ok(silent(ingressFrom([ipBlock("fd00:200::/123")])), "IPv6 /123 is silent");
  t.ok(only(RULE, ingressFrom([ipBlock("10.200.4.16/28", ["10.200.4.16/29"])])), "except does not widen it");
});

t.test("a routed remote with snatToNodes: egress pins pods, ingress is nat-hidden instead", async (t) => {
  t.match(only(RULE, egressTo([ipBlock("10.210.0.9/32")])).message, "onprem-south");
  const inbound = ingressFrom([ipBlock("10.210.0.9/32")]);
  t.ok(silent(inbound), "nat-hidden-cidr says more");
  t.equal(findingsOf("nat-hidden-cidr", inbound).length, 1);
});

t.test("silent outside routed remote pod ranges", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("10.100.0.5/32")])), "nat remote");
  t.ok(silent(egressTo([ipBlock("10.201.0.5/32")])), "routed remote's node range");
  t.ok(silent(egressTo([ipBlock("10.8.0.5/32")])), "local pods");
  t.ok(silent(egressTo([ipBlock("192.0.2.5/32")])), "undeclared");
  t.ok(silent(egressTo([ipBlock("10.200.255.255/32"), { podSelector: {} }])) === false, "sanity: last address of the range fires");
  t.ok(silent(egressTo([ipBlock("10.199.255.240/28")])), "just below the range");
});
