import t from "tap";
import { egressTo, findingsOf, fixture, ingressFrom, ipBlock, multicloud, only, silentFor } from "../helpers.js";

const RULE = "ambiguous-remote-cidr";
const silent = silentFor(RULE);

/** azure-north re-uses part of gcp-west's pod range (both families); aws-east re-uses its service range. */
const overlapping = multicloud((d) => {
  const remotes = d.remoteClusters as Record<string, unknown>[];
  remotes[1]!.podCIDRs = ["10.8.0.0/16", "fd00:8::/64"];
  remotes[0]!.serviceCIDRs = ["10.12.0.0/20"];
});

t.test("the overlapping config is accepted with notes", async (t) => {
  t.equal(overlapping.notes.length, 2);
});

t.test("an ipBlock naming a remote pod range that is also local (IPv4)", async (t) => {
  const f = only(RULE, ingressFrom([ipBlock("10.8.0.0/16")]), overlapping);
  t.equal(f.rule, RULE);
  t.equal(f.action, "warn");
  t.equal(f.certainty, "likely");
  t.equal(f.path, "spec.ingress[0].from[0].ipBlock");
  t.match(f.message, "ipBlock 10.8.0.0/16 names azure-north's pod range 10.8.0.0/16, but 10.8.0.0/16 is also this cluster's own: it matches local traffic, not the remote's.");
  t.match(f.fix, /non-overlapping ranges/);
});

t.test("IPv6 and egress", async (t) => {
  const f = only(RULE, egressTo([ipBlock("fd00:8::/80")]), overlapping);
  t.equal(f.path, "spec.egress[0].to[0].ipBlock");
  t.match(f.message, "names azure-north's pod range fd00:8::/64, but fd00:8::/80 is also this cluster's own");
});

t.test("a NATed remote's range overlapping local services: ambiguous, never nat-hidden", async (t) => {
  const p = ingressFrom([ipBlock("10.12.0.0/24")]);
  t.match(only(RULE, p, overlapping).message, "aws-east's service range 10.12.0.0/20");
  t.equal(findingsOf("nat-hidden-cidr", p, overlapping).length, 0, "local traffic carries these addresses");
  t.equal(findingsOf("partially-hidden-cidr", p, overlapping).length, 0);
});

t.test("only the overlapping part is named", async (t) => {
  const f = only(RULE, ingressFrom([ipBlock("10.8.0.0/15", ["10.9.0.0/16"])]), overlapping);
  t.match(f.message, "but 10.8.0.0/16 is also");
});

t.test("silent without overlap, or when the range is not entirely remote", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("10.8.0.0/14")]), overlapping), "mostly local, not a remote range");
  t.ok(silent(ingressFrom([ipBlock("10.200.0.0/16")]), overlapping), "no overlap with local");
  t.ok(silent(ingressFrom([ipBlock("0.0.0.0/0")]), overlapping));
  t.ok(silent(ingressFrom([{ podSelector: {} }]), overlapping));
  for (const cidr of ["10.100.0.0/16", "10.200.0.0/16", "fd00:200::/56", "10.8.0.0/16", "10.12.0.0/20"]) {
    t.ok(silent(ingressFrom([ipBlock(cidr)]), fixture), `fixture without overlaps: ${cidr}`);
  }
});
