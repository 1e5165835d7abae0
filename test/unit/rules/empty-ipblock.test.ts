import t from "tap";
import { defaultConfig } from "../../../policies/index.js";
import { NO_PEER_SENTENCE, egressTo, ingressFrom, ipBlock, only, silentFor } from "../helpers.js";

const RULE = "empty-ipblock";
const silent = silentFor(RULE);

t.test("adjacent except entries covering the whole cidr (IPv4)", async (t) => {
  const f = only(RULE, ingressFrom([ipBlock("10.50.0.0/24", ["10.50.0.0/25", "10.50.0.128/25"])]));
  t.equal(f.rule, RULE);
  t.equal(f.action, "deny");
  t.equal(f.certainty, "provable");
  t.equal(f.path, "spec.ingress[0].from[0].ipBlock.except");
  t.match(f.message, "the except entries (10.50.0.0/25, 10.50.0.128/25) cover all of 10.50.0.0/24, so this peer matches no address.");
  t.match(f.message, "No peer of spec.ingress[0] can match");
  t.match(f.fix, /except entries that cover the whole cidr/);
  t.match(f.fix, /an empty `from` allows all traffic/);
});

t.test("several except entries, out of order, overlapping (IPv6)", async (t) => {
  const f = only(RULE, egressTo([ipBlock("2001:db8::/64", ["2001:db8:0:0:c000::/66", "2001:db8::/65", "2001:db8:0:0:8000::/66", "2001:db8::/66"])]));
  t.equal(f.path, "spec.egress[0].to[0].ipBlock.except");
  t.match(f.message, "cover all of 2001:db8::/64");
  t.match(f.fix, /an empty `to` allows all traffic/);
});

t.test("works without any topology", async (t) => {
  t.ok(only(RULE, ingressFrom([ipBlock("192.0.2.0/24", ["192.0.2.0/25", "192.0.2.128/25"])]), defaultConfig()));
});

t.test("silent when any address remains", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("10.50.0.0/24", ["10.50.0.0/25", "10.50.0.128/26", "10.50.0.192/27", "10.50.0.224/28", "10.50.0.240/29", "10.50.0.248/30", "10.50.0.252/31", "10.50.0.254/32"])])), "10.50.0.255 remains");
  t.ok(silent(ingressFrom([ipBlock("10.50.0.0/24", ["10.50.0.0/25"])])));
  t.ok(silent(egressTo([ipBlock("2001:db8::/64", ["2001:db8::/65"])])));
  t.ok(silent(ingressFrom([ipBlock("10.50.0.0/24")])), "no except at all");
  t.ok(silent(ingressFrom([ipBlock("10.50.0.0/24", [])])), "empty except list");
});

t.test("path names the right peer; another live peer removes the dead-rule sentence", async (t) => {
  const p = ingressFrom([{ podSelector: {} }, ipBlock("10.50.0.0/31", ["10.50.0.0/32", "10.50.0.1/32"])]);
  const f = only(RULE, p);
  t.equal(f.path, "spec.ingress[0].from[1].ipBlock.except");
  t.notMatch(f.message, NO_PEER_SENTENCE("spec.ingress[0]"));
});
