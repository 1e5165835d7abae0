import t from "tap";
import { defaultConfig } from "../../../policies/index.js";
import { egressTo, findingsOf, ingressFrom, ipBlock, load, multicloud, only, policy, silentFor, withScope } from "../helpers.js";

const RULE = "named-port-to-cidr";
const silent = silentFor(RULE);

t.test("egress to an external ipBlock on a named port (IPv4)", async (t) => {
  const f = only(RULE, egressTo([ipBlock("192.0.2.0/24")], [{ protocol: "TCP", port: "https" }]));
  t.equal(f.rule, RULE);
  t.equal(f.action, "deny");
  t.equal(f.certainty, "provable");
  t.equal(f.path, "spec.egress[0].ports[0].port");
  t.match(f.message, 'named port "https" is resolved against the container ports of destination pods, but every peer of spec.egress[0] is an address block outside this cluster\'s pods');
  t.match(f.message, "never matches: the rule allows nothing");
  t.match(f.fix, /port number the destination listens on/);
  t.match(f.fix, '"https"');
});

t.test("IPv6 ipBlocks, several peers, several ports", async (t) => {
  const p = egressTo([ipBlock("2001:db8::/32"), ipBlock("198.51.100.0/28"), ipBlock("10.100.0.0/16")], [{ port: 443 }, { port: "metrics" }, { protocol: "UDP", port: "dns" }]);
  const found = findingsOf(RULE, p);
  t.same(found.map((f) => f.path), ["spec.egress[0].ports[1].port", "spec.egress[0].ports[2].port"]);
  for (const f of found) t.notMatch(f.message, /allows nothing/, "port 443 still matches");
});

t.test("an ipBlock carved around the local pods counts as outside them", async (t) => {
  t.ok(only(RULE, egressTo([ipBlock("10.0.0.0/8", ["10.8.0.0/14", "10.0.0.0/20"])], [{ port: "http" }])));
  t.ok(only(RULE, egressTo([ipBlock("fd00::/16", ["fd00:8::/56", "fd00::/64"])], [{ port: "http" }])));
});

t.test("the path names the right rule and port", async (t) => {
  const p = policy({
    egress: [
      { to: [{ podSelector: {} }], ports: [{ port: "http" }] },
      { to: [ipBlock("192.0.2.0/24")], ports: [{ port: 80 }, { port: "http" }] },
    ],
  });
  t.same(findingsOf(RULE, p).map((f) => f.path), ["spec.egress[1].ports[1].port"]);
});

t.test("silent when a peer could be a local pod", async (t) => {
  t.ok(silent(egressTo([{ podSelector: { matchLabels: { app: "api" } } }], [{ port: "http" }])), "selector peer");
  t.ok(silent(egressTo([ipBlock("192.0.2.0/24"), { namespaceSelector: {} }], [{ port: "http" }])), "one selector among ipBlocks");
  t.ok(silent(egressTo([ipBlock("10.0.0.0/8")], [{ port: "http" }])), "ipBlock overlapping the pod range");
  t.ok(silent(egressTo([ipBlock("192.0.2.0/24"), ipBlock("10.9.0.0/16")], [{ port: "http" }])), "one ipBlock inside the pod range");
  t.ok(silent(egressTo([ipBlock("fd00:8::/64")], [{ port: "http" }])), "IPv6 pod range");
  t.ok(silent(egressTo([ipBlock("10.0.0.0/24")], [{ port: "http" }])), "node range: hostNetwork pods");
  t.ok(silent(egressTo([ipBlock("0.0.0.0/0")], [{ port: "http" }])));
});

t.test("silent for numeric ports, ingress, and empty peers", async (t) => {
  t.ok(silent(egressTo([ipBlock("192.0.2.0/24")], [{ port: 443, endPort: 445 }])));
  t.ok(silent(egressTo([ipBlock("192.0.2.0/24")])));
  t.ok(silent(ingressFrom([ipBlock("192.0.2.0/24")], [{ port: "http" }])), "ingress named ports resolve on the selected pods");
  t.ok(silent(policy({ egress: [{ ports: [{ port: "http" }] }] })), "no `to`: all destinations");
  t.ok(silent(policy({ egress: [{ to: [], ports: [{ port: "http" }] }] })), "empty `to`: all destinations");
});

t.test("only a warning when the local pod CIDRs are unknown", async (t) => {
  const p = egressTo([ipBlock("192.0.2.0/24")], [{ port: "https" }]);
  for (const [name, loaded] of [
    ["no config", defaultConfig()],
    ["no podCIDRs", load({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: { name: "c", cni: "calico", nodeCIDRs: ["10.0.0.0/20"] } })],
  ] as const) {
    const f = only(RULE, p, loaded);
    t.equal(f.action, "warn", name);
    t.ok(f.premises?.some((x) => x.id === "local-pod-ranges-declared:ipv4" && x.status === "unknown"), name);
  }
});

t.test("when selectors resolve across clusters, remote pods' named ports are known too", async (t) => {
  for (const scope of ["cilium-clustermesh", "calico-federation"]) {
    const mesh = withScope(scope);
    t.ok(silent(egressTo([ipBlock("10.200.0.0/16")], [{ port: "http" }]), mesh), `${scope}: routed remote pods`);
    t.ok(silent(egressTo([ipBlock("fd00:200::/64")], [{ port: "http" }]), mesh), `${scope}: IPv6 remote pods`);
    t.equal(
      only(RULE, egressTo([ipBlock("192.0.2.0/24")], [{ port: "http" }]), mesh).action,
      scope === "cilium-clustermesh" ? "warn" : "deny",
      `${scope}: an external range never matches a named port under Calico; Cilium applies the number to ipBlock peers too`,
    );
  }
  t.ok(only(RULE, egressTo([ipBlock("10.200.0.0/16")], [{ port: "http" }])), "local-only: remote pods are just addresses");
});

t.test("action config", async (t) => {
  const p = egressTo([ipBlock("192.0.2.0/24")], [{ port: "https" }]);
  t.equal(only(RULE, p, multicloud((d) => (d.rules = { [RULE]: "warn" }))).action, "warn");
  t.ok(silent(p, multicloud((d) => (d.rules = { [RULE]: "off" }))));
});
