import t from "tap";
import { defaultConfig } from "../../../policies/index.js";
import { egressTo, ingressFrom, ipBlock, multicloud, only, silentFor } from "../helpers.js";

const RULE = "ipblock-local-pods";
const silent = silentFor(RULE);

t.test("an ipBlock inside the local pod range (IPv4)", async (t) => {
  const f = only(RULE, ingressFrom([ipBlock("10.9.1.0/24")]));
  t.equal(f.rule, RULE);
  t.equal(f.action, "warn");
  t.equal(f.certainty, "likely");
  t.equal(f.path, "spec.ingress[0].from[0].ipBlock");
  t.match(f.message, "ipBlock 10.9.1.0/24 overlaps this cluster's pod range (10.9.1.0/24); whether an ipBlock matches pod traffic is implementation-defined");
  t.equal(
    f.fix,
    "Select those pods with a podSelector/namespaceSelector peer instead and drop this ipBlock; " +
      "if it is the rule's only peer, add the selector peer first, because an empty `from` allows all traffic.",
  );
  t.notMatch(f.fix, /except/, "an except entry must be strictly smaller than the cidr: it cannot remove the whole block");
});

t.test("a block whose remaining range is all local pods: drop it, never except it", async (t) => {
  const carved = only(RULE, egressTo([ipBlock("10.8.0.0/13", ["10.12.0.0/14"])]));
  t.match(carved.fix, /^Select those pods with a podSelector\/namespaceSelector peer instead and drop this ipBlock; .*an empty `to` allows all traffic\.$/);
  t.notMatch(only(RULE, egressTo([ipBlock("fd00:8::1/128")])).fix, /except/, "IPv6 single address");
  t.notMatch(only(RULE, ingressFrom([ipBlock("10.8.0.0/14")])).fix, /except/, "exactly the pod range");
});

t.test("a broad ipBlock names the overlap, and except can exclude it", async (t) => {
  const f = only(RULE, egressTo([ipBlock("0.0.0.0/0")]));
  t.equal(f.path, "spec.egress[0].to[0].ipBlock");
  t.match(f.message, "(10.8.0.0/14)");
  t.match(f.fix, "add 10.8.0.0/14 to this ipBlock's except");
  t.ok(silent(egressTo([ipBlock("0.0.0.0/0", ["10.8.0.0/14"])])));
  t.match(only(RULE, egressTo([ipBlock("10.0.0.0/8", ["10.8.0.0/15"])])).message, "(10.10.0.0/15)");
});

t.test("IPv6", async (t) => {
  const f = only(RULE, ingressFrom([ipBlock("fd00::/16")]));
  t.match(f.message, "(fd00:8::/56)");
  t.ok(only(RULE, egressTo([ipBlock("fd00:8::1/128")])));
  t.ok(silent(egressTo([ipBlock("fd00:9::/64")])));
});

t.test("silent outside the local pod range", async (t) => {
  t.ok(silent(ingressFrom([ipBlock("10.12.0.0/20")])), "service range");
  t.ok(silent(ingressFrom([ipBlock("10.0.0.0/20")])), "node range");
  t.ok(silent(ingressFrom([ipBlock("10.100.0.0/16")])));
  t.ok(silent(ingressFrom([{ podSelector: {} }])));
  t.ok(silent(ingressFrom([ipBlock("0.0.0.0/0")]), defaultConfig()), "pod range unknown");
  t.ok(silent(ingressFrom([ipBlock("10.9.0.0/16")]), multicloud((d) => (d.rules = { [RULE]: "off" }))));
});
