import t, { type Test as Tap } from "tap";
import { defaultConfig, guardrailConfigSchema, loadConfig, type ConfigProblem } from "../../policies/index.js";
import { multicloudDocument } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

const minimal = (): Doc => ({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: { name: "gcp-west" } });

function problemsOf(document: unknown): ConfigProblem[] {
  const result = loadConfig(document);
  if (result.ok) throw new Error(`expected the config to be rejected: ${JSON.stringify(document)}`);
  return result.problems;
}

/** Asserts exactly one problem at `path` whose message matches `message`. */
function rejects(t: Tap, document: unknown, path: string, message: RegExp | string): void {
  const problems = problemsOf(document);
  t.same(
    problems.map((p) => p.path),
    [path],
    `one problem, at ${path}`,
  );
  t.match(problems[0]?.message ?? "", message);
}

const withBase = (edit: (d: Doc) => void): Doc => {
  const d = multicloudDocument() as Doc;
  edit(d);
  return d;
};

t.test("defaults are filled in", async (t) => {
  const result = loadConfig(minimal());
  t.ok(result.ok);
  if (!result.ok) return;
  const c = result.loaded.config;
  t.equal(c.mode, "enforce");
  t.equal(c.clusterLabel, "netguard.dev/cluster");
  t.same(c.privilegedGroups, ["system:masters"]);
  t.same(c.exemptNamespaces, ["kube-system", "kube-public", "kube-node-lease", "netguard-system"]);
  t.same(c.remoteClusters, []);
  t.same(c.rules, {});
  t.equal(c.cluster.policyScope, "local-only");
  t.same(c.cluster.podCIDRs, []);
  t.same(c.cluster.serviceCIDRs, []);
  t.same(c.cluster.nodeCIDRs, []);
  t.same(c.baseline, {
    enabled: true,
    name: "netguard-baseline",
    egress: "dns-only",
    dns: {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
    optOutLabel: "netguard.dev/baseline=disabled",
  });
  t.same(result.loaded.notes, []);
  t.equal(result.loaded.topology.localName, "gcp-west");
});

t.test("remote defaults are filled in per remote", async (t) => {
  const result = loadConfig({ ...minimal(), remoteClusters: [{ name: "aws-east", connectivity: "nat" }] });
  t.ok(result.ok);
  if (!result.ok) return;
  t.same(result.loaded.config.remoteClusters[0], {
    name: "aws-east",
    connectivity: "nat",
    podCIDRs: [],
    serviceCIDRs: [],
    nodeCIDRs: [],
    natSourceCIDRs: [],
    exposedCIDRs: [],
    snatToNodes: false,
    namespaces: [],
  });
});

t.test("partial baseline keeps the other defaults; port protocol defaults to UDP", async (t) => {
  const result = loadConfig({ ...minimal(), baseline: { egress: "allow-all", dns: { ports: [{ port: 5353 }] } } });
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.loaded.config.baseline.egress, "allow-all");
  t.equal(result.loaded.config.baseline.name, "netguard-baseline");
  t.same(result.loaded.config.baseline.dns.ports, [{ protocol: "UDP", port: 5353 }]);
  t.same(result.loaded.config.baseline.dns.podSelector, { matchLabels: { "k8s-app": "kube-dns" } });
});

t.test("explicit values are kept; the input document is not mutated", async (t) => {
  const doc = withBase((d) => {
    d.mode = "audit";
    d.clusterLabel = "example.com/cloud";
    d.rules = { "nat-hidden-cidr": "warn", "ipblock-local-pods": "off" };
  });
  const before = JSON.stringify(doc);
  const result = loadConfig(doc);
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.loaded.config.mode, "audit");
  t.equal(result.loaded.config.clusterLabel, "example.com/cloud");
  t.same(result.loaded.config.rules, { "nat-hidden-cidr": "warn", "ipblock-local-pods": "off" });
  t.equal(JSON.stringify(doc), before, "loadConfig works on a copy");
});

t.test("the multicloud fixture loads without notes", async (t) => {
  const result = loadConfig(multicloudDocument());
  t.ok(result.ok, result.ok ? "loaded" : JSON.stringify(result.problems));
  if (result.ok) t.same(result.loaded.notes, []);
});

t.test("defaultConfig is a single cluster with no name, ranges or CNI declared", async (t) => {
  const d = defaultConfig();
  t.equal(d.config.cluster.name, undefined, "no invented cluster name");
  t.equal(d.config.cluster.cni, "generic");
  t.same(d.config.remoteClusters, []);
  t.ok(d.topology.local.all.isEmpty());
});

t.test("cluster.cni: generic by default, cilium under cilium-clustermesh, a contradiction is an error", async (t) => {
  const cni = (cluster: Record<string, unknown>) => {
    const result = loadConfig({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: { name: "c", ...cluster } });
    return result.ok ? result.loaded.config.cluster.cni : undefined;
  };
  t.equal(cni({}), "generic");
  t.equal(cni({ cni: "calico" }), "calico");
  t.equal(cni({ policyScope: "cilium-clustermesh" }), "cilium");
  t.equal(cni({ policyScope: "calico-federation" }), "generic");
  rejects(t, { ...minimal(), cluster: { name: "c", policyScope: "cilium-clustermesh", cni: "calico" } }, "cluster.cni", /cni calico contradicts it/);
  rejects(t, { ...minimal(), cluster: { name: "c", cni: "flannel" } }, "cluster.cni", /generic, calico, cilium/);
});

t.test("the schema is shipped for editors", async (t) => {
  t.equal((guardrailConfigSchema as { title?: string }).title, "netguard GuardrailConfig");
});

t.test("not an object: one problem at the document that says what it is instead", async (t) => {
  for (const [doc, kind] of [[null, "null"], [[], "a list"], ["cluster: x", "a string"], [42, "an integer"]] as const) {
    const problems = problemsOf(doc);
    t.same(problems, [{ path: "(document)", message: `must be a map (key: value entries), not ${kind}` }], JSON.stringify(doc));
  }
});

t.test("baseline.dns is checked as the NetworkPolicy peer and ports it becomes", async (t) => {
  const dns = (d: Doc) => ({ ...minimal(), baseline: { dns: d } });
  rejects(t, dns({ podSelector: { matchExpressions: [{ key: "k8s-app", operator: "In" }] } }), "baseline.dns.podSelector.matchExpressions[0].values", "must be non-empty when operator is In");
  rejects(t, dns({ podSelector: { matchExpressions: [{ key: "k8s-app", operator: "NotIn", values: [] }] } }), "baseline.dns.podSelector.matchExpressions[0].values", "must be non-empty when operator is NotIn");
  rejects(t, dns({ namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists", values: ["a"] }] } }), "baseline.dns.namespaceSelector.matchExpressions[0].values", "must be empty when operator is Exists");
  rejects(t, dns({ namespaceSelector: { matchLabels: { "bad key!": "x" } } }), "baseline.dns.namespaceSelector.matchLabels", '"bad key!" is not a valid label key');
  rejects(t, dns({ podSelector: { matchLabels: { app: "not valid!" } } }), "baseline.dns.podSelector.matchLabels.app", '"not valid!" is not a valid label value');
  rejects(t, dns({ podSelector: { matchExpressions: [{ key: "-x", operator: "Exists" }] } }), "baseline.dns.podSelector.matchExpressions[0].key", '"-x" is not a valid label key');
  rejects(t, dns({ podSelector: { matchExpressions: [{ key: "a", operator: "In", values: ["ok", "no good"] }] } }), "baseline.dns.podSelector.matchExpressions[0].values[1]", '"no good" is not a valid label value');
  rejects(t, dns({ ports: [{ protocol: "ICMP", port: 53 }] }), "baseline.dns.ports[0].protocol", "must be one of: TCP, UDP, SCTP");
  rejects(t, dns({ ports: [{ port: "dns" }] }), "baseline.dns.ports[0].port", "must be an integer, not a string");
});

t.test("a baseline.dns selector that matches nothing would block DNS everywhere: refused", async (t) => {
  const contradictory = { matchLabels: { "k8s-app": "kube-dns" }, matchExpressions: [{ key: "k8s-app", operator: "DoesNotExist" }] };
  rejects(t, { ...minimal(), baseline: { dns: { podSelector: contradictory } } }, "baseline.dns.podSelector", /"k8s-app" contradict each other, so it matches no pod: DNS would be blocked/);
  const twoNames = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["kube-system"] }, { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] }] };
  rejects(t, { ...minimal(), baseline: { egress: "allow-all", dns: { namespaceSelector: twoNames } } }, "baseline.dns.namespaceSelector", /matches no namespace/);
});

t.test("baseline.dns shapes the apiserver stores differently are all valid", async (t) => {
  for (const dns of [
    { namespaceSelector: {}, podSelector: { matchLabels: {}, matchExpressions: [] } },
    { podSelector: { matchExpressions: [{ key: "k8s-app", operator: "Exists", values: [] }] } },
    { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["kube-system"] }] }, ports: [{ port: 53 }] },
  ]) {
    const result = loadConfig({ ...minimal(), baseline: { dns } });
    t.ok(result.ok, JSON.stringify(dns), result.ok ? {} : { problems: result.problems });
  }
});

t.test("unknown fields are errors that name the field", async (t) => {
  rejects(t, { ...minimal(), colour: "blue" }, "colour", /unknown field/);
  rejects(t, { ...minimal(), cluster: { name: "gcp-west", podCidrs: ["10.0.0.0/8"] } }, "cluster.podCidrs", /unknown field/);
  rejects(t, withBase((d) => (d.remoteClusters[2].snatToNode = true)), "remoteClusters[2].snatToNode", /unknown field/);
  rejects(t, { ...minimal(), baseline: { dns: { ports: [{ port: 53, proto: "UDP" }] } } }, "baseline.dns.ports[0].proto", /unknown field/);
  rejects(t, { ...minimal(), rules: { "nat-hiden-cidr": "warn" } }, "rules.nat-hiden-cidr", /unknown field/);
});

t.test("wrong enum values list the allowed ones", async (t) => {
  rejects(t, { ...minimal(), mode: "strict" }, "mode", /must be one of: enforce, audit/);
  rejects(t, { ...minimal(), cluster: { name: "gcp-west", policyScope: "mesh" } }, "cluster.policyScope", /local-only, cilium-clustermesh, calico-federation/);
  rejects(t, withBase((d) => (d.remoteClusters[0].connectivity = "vpn")), "remoteClusters[0].connectivity", /must be one of: nat, routed/);
  rejects(t, { ...minimal(), rules: { "nat-hidden-cidr": "block" } }, "rules.nat-hidden-cidr", /must be one of: deny, warn, off/);
  rejects(t, { ...minimal(), baseline: { egress: "none" } }, "baseline.egress", /dns-only, allow-all/);
});

t.test("apiVersion, kind and cluster are required and checked", async (t) => {
  rejects(t, { ...minimal(), apiVersion: "v1" }, "apiVersion", /netguard\.dev\/v1alpha1/);
  rejects(t, { ...minimal(), kind: "Config" }, "kind", /GuardrailConfig/);
  const { cluster: _dropped, ...noCluster } = minimal();
  rejects(t, noCluster, "cluster", /required/);
  rejects(t, { ...minimal(), cluster: {} }, "cluster.name", /required field is missing/);
  rejects(t, withBase((d) => delete d.remoteClusters[1].connectivity), "remoteClusters[1].connectivity", /required/);
});

t.test("invalid cluster names", async (t) => {
  for (const name of ["GCP-West", "gcp_west", "-gcp", "gcp-", "", "a".repeat(64)]) {
    const problems = problemsOf({ ...minimal(), cluster: { name } });
    t.ok(problems.length >= 1, `rejects ${JSON.stringify(name)}`);
    t.ok(problems.every((p) => p.path === "cluster.name"), `problem at cluster.name for ${JSON.stringify(name)}`);
  }
  const LABEL = "must be a lowercase RFC 1123 label: a-z, 0-9 and '-', starting and ending with an alphanumeric, at most 63 characters";
  rejects(t, withBase((d) => (d.remoteClusters[0].name = "AWS")), "remoteClusters[0].name", LABEL);
  rejects(t, { ...minimal(), cluster: { name: "" } }, "cluster.name", LABEL);
  rejects(t, { ...minimal(), cluster: { name: "a".repeat(64) } }, "cluster.name", "must be at most 63 characters long");
  rejects(t, { ...minimal(), exemptNamespaces: ["kube-system", "Team_A"] }, "exemptNamespaces[1]", LABEL);
  t.ok(loadConfig({ ...minimal(), cluster: { name: "a".repeat(63) } }).ok, "63 characters are fine");
});

t.test("schema errors are sentences, never raw patterns or ajv wording", async (t) => {
  rejects(t, { ...minimal(), baseline: { dns: { ports: [] } } }, "baseline.dns.ports", "must have at least 1 item");
  rejects(t, { ...minimal(), baseline: { dns: { ports: [{ port: 0 }] } } }, "baseline.dns.ports[0].port", "must be at least 1");
  rejects(t, { ...minimal(), baseline: { dns: { ports: [{ port: 70000 }] } } }, "baseline.dns.ports[0].port", "must be at most 65535");
  rejects(t, { ...minimal(), baseline: { dns: { ports: { port: 53 } } } }, "baseline.dns.ports", "must be a list (each entry starts with '- '), not a map");
  rejects(t, { ...minimal(), privilegedGroups: ["system:masters", ""] }, "privilegedGroups[1]", "must not be empty");
  rejects(t, { ...minimal(), baseline: { name: "Netguard_Baseline" } }, "baseline.name", /^must be a lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '\.'/);
  rejects(t, { ...minimal(), baseline: { name: "a".repeat(254) } }, "baseline.name", "must be at most 253 characters long");
  rejects(t, { ...minimal(), baseline: { enabled: "yes" } }, "baseline.enabled", "must be true or false, not a string");
  rejects(t, { ...minimal(), remoteClusters: { name: "aws-east" } }, "remoteClusters", "must be a list (each entry starts with '- '), not a map");
  rejects(t, { ...minimal(), cluster: { name: "gcp-west", podCIDRs: null } }, "cluster.podCIDRs", "must be a list (each entry starts with '- '), not null");
  rejects(t, { ...minimal(), baseline: { dns: { podSelector: { matchExpressions: [{ key: "", operator: "Exists" }] } } } }, "baseline.dns.podSelector.matchExpressions[0].key", "must not be empty");
});

t.test("bad CIDRs name the list and the index", async (t) => {
  rejects(t, withBase((d) => (d.remoteClusters[0].podCIDRs = ["10.100.0.0/16", "fd00:100::/129"])), "remoteClusters[0].podCIDRs[1]", /"fd00:100::\/129" is not a valid IPv4 or IPv6 CIDR/);
  rejects(t, withBase((d) => (d.cluster.serviceCIDRs = ["10.12.0.1"])), "cluster.serviceCIDRs[0]", '"10.12.0.1" has no prefix length (write it as 10.12.0.1/32 for a single address)');
  rejects(t, withBase((d) => (d.cluster.podCIDRs = ["fd00:8::1"])), "cluster.podCIDRs[0]", '"fd00:8::1" has no prefix length (write it as fd00:8::1/128 for a single address)');
  rejects(t, withBase((d) => (d.remoteClusters[0].natSourceCIDRs = ["203.0.113.300/32"])), "remoteClusters[0].natSourceCIDRs[0]", /not a valid/);
  rejects(t, withBase((d) => (d.remoteClusters[0].exposedCIDRs = ["198.51.100.0/28", "x"])), "remoteClusters[0].exposedCIDRs[1]", /"x"/);
  rejects(t, withBase((d) => (d.remoteClusters[1].nodeCIDRs = [":::/64"])), "remoteClusters[1].nodeCIDRs[0]", /not a valid/);
  rejects(t, withBase((d) => (d.cluster.podCIDRs = "10.8.0.0/14")), "cluster.podCIDRs", "must be a list (each entry starts with '- '), not a string");
  rejects(t, withBase((d) => (d.cluster.podCIDRs = [10])), "cluster.podCIDRs[0]", "must be a string, not an integer");
});

t.test("connectivity-specific fields", async (t) => {
  rejects(t, withBase((d) => (d.remoteClusters[1].natSourceCIDRs = ["192.0.2.1/32"])), "remoteClusters[1].natSourceCIDRs", /only meaningful with connectivity: nat.*routed/);
  rejects(t, withBase((d) => (d.remoteClusters[1].exposedCIDRs = ["192.0.2.1/32"])), "remoteClusters[1].exposedCIDRs", /only meaningful with connectivity: nat/);
  rejects(t, withBase((d) => (d.remoteClusters[0].snatToNodes = true)), "remoteClusters[0].snatToNodes", /only meaningful with connectivity: routed/);
  t.ok(loadConfig(withBase((d) => (d.remoteClusters[0].snatToNodes = false))).ok, "snatToNodes: false on a nat remote is harmless");
  t.ok(loadConfig(withBase((d) => (d.remoteClusters[1].natSourceCIDRs = []))).ok, "an empty list on a routed remote is harmless");
});

t.test("remote names are unique and differ from the local cluster", async (t) => {
  rejects(t, withBase((d) => (d.remoteClusters[2].name = "aws-east")), "remoteClusters[2].name", /"aws-east" is already another remote cluster's name/);
  rejects(t, withBase((d) => (d.remoteClusters[1].name = "gcp-west")), "remoteClusters[1].name", /"gcp-west" is already the local cluster's name/);
});

t.test("deny is only allowed for provable rules", async (t) => {
  for (const id of ["partially-hidden-cidr", "ambiguous-remote-cidr", "pinned-remote-pod-ip", "remote-namespace-name", "ipblock-local-pods"]) {
    rejects(t, { ...minimal(), rules: { [id]: "deny" } }, `rules.${id}`, new RegExp(`deny is only allowed for provable rules; ${id} is likely.*use warn or off`));
    t.ok(loadConfig({ ...minimal(), rules: { [id]: "warn" } }).ok, `${id}: warn is fine`);
    t.ok(loadConfig({ ...minimal(), rules: { [id]: "off" } }).ok, `${id}: off is fine`);
  }
  for (const id of ["remote-cluster-selector", "nat-hidden-cidr", "empty-ipblock", "unsatisfiable-selector", "named-port-to-cidr"]) {
    t.ok(loadConfig({ ...minimal(), rules: { [id]: "deny" } }).ok, `${id} is provable: deny is fine`);
  }
});

t.test("clusterLabel must be a valid label key", async (t) => {
  for (const label of ["Bad Label", "netguard.dev/", "/cluster", "a/b/c", "-x", "x".repeat(64), "UPPER.dev/cluster"]) {
    rejects(t, { ...minimal(), clusterLabel: label }, "clusterLabel", /is not a valid label key/);
  }
  rejects(t, { ...minimal(), clusterLabel: "kubernetes.io/metadata.name" }, "clusterLabel", /set by the apiserver to each namespace's own name/);
  for (const label of ["cluster", "netguard.dev/cluster", "topology.example.com/Cloud_Name"]) {
    t.ok(loadConfig({ ...minimal(), clusterLabel: label }).ok, `${label} is valid`);
  }
});

t.test("baseline.optOutLabel must be key=value with a valid key and value", async (t) => {
  rejects(t, { ...minimal(), baseline: { optOutLabel: "netguard.dev/baseline" } }, "baseline.optOutLabel", "must be key=value, with exactly one '='");
  rejects(t, { ...minimal(), baseline: { optOutLabel: "a=b=c" } }, "baseline.optOutLabel", "must be key=value, with exactly one '='");
  rejects(t, { ...minimal(), baseline: { optOutLabel: "bad key!=x" } }, "baseline.optOutLabel", /key=value with a valid label key and value/);
  rejects(t, { ...minimal(), baseline: { optOutLabel: "netguard.dev/baseline=not valid" } }, "baseline.optOutLabel", /valid label key and value/);
  rejects(t, { ...minimal(), baseline: { optOutLabel: "netguard.dev/cluster=none" } }, "baseline.optOutLabel", /must not use the clusterLabel key/);
  t.ok(loadConfig({ ...minimal(), baseline: { optOutLabel: "example.com/no-baseline=true" } }).ok);
  t.ok(loadConfig({ ...minimal(), baseline: { optOutLabel: "example.com/no-baseline=" } }).ok, "an empty value is a valid label value");
});

t.test("overlapping local and remote ranges are accepted with a note", async (t) => {
  const result = loadConfig(withBase((d) => (d.remoteClusters[1].podCIDRs = ["10.8.0.0/16", "fd00:8::/64"])));
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.loaded.notes.length, 1);
  t.equal(result.loaded.notes[0]?.path, "remoteClusters[1]");
  t.match(result.loaded.notes[0]?.message, /azure-north overlap local ranges \(10\.8\.0\.0\/16, fd00:8::\/64\)/);
  t.match(result.loaded.notes[0]?.message, /ambiguous-remote-cidr/);
});

t.test("several problems in one document are all listed", async (t) => {
  const schemaProblems = problemsOf(
    withBase((d) => {
      d.mode = "strict";
      delete d.cluster.name;
      d.colour = "blue";
      d.remoteClusters[0].connectivity = "vpn";
    }),
  );
  t.same(schemaProblems.map((p) => p.path).sort(), ["cluster.name", "colour", "mode", "remoteClusters[0].connectivity"]);

  const crossProblems = problemsOf(
    withBase((d) => {
      d.remoteClusters[0].podCIDRs = ["10.100.0.0/16", "bogus"];
      d.remoteClusters[1].natSourceCIDRs = ["192.0.2.1/32"];
      d.remoteClusters[2].name = "aws-east";
      d.rules = { "partially-hidden-cidr": "deny" };
      d.clusterLabel = "Bad Label";
    }),
  );
  t.same(crossProblems.map((p) => p.path).sort(), [
    "clusterLabel",
    "remoteClusters[0].podCIDRs[1]",
    "remoteClusters[1].natSourceCIDRs",
    "remoteClusters[2].name",
    "rules.partially-hidden-cidr",
  ]);

  const mixed = problemsOf(
    withBase((d) => {
      d.colour = "blue";
      d.remoteClusters[0].podCIDRs = ["x/8"];
      d.rules = { "ipblock-local-pods": "deny" };
    }),
  );
  t.same(mixed.map((p) => p.path).sort(), ["colour", "remoteClusters[0].podCIDRs[0]", "rules.ipblock-local-pods"], "an unknown field does not hide the other problems");

  const structural = problemsOf(
    withBase((d) => {
      d.mode = "strict";
      d.cluster.podCIDRs = ["10.8.0.0/33"];
      d.remoteClusters[0].connectivity = "vpn";
      d.remoteClusters[0].natSourceCIDRs = ["203.0.113.300/32"];
      d.remoteClusters[1].name = "Azure";
      d.remoteClusters[2].name = "aws-east";
      d.baseline = { dns: { ports: [] } };
      d.rules = { "pinned-remote-pod-ip": "deny", "named-port-to-cidr": "block" };
    }),
  );
  t.same(
    structural.map((p) => `${p.path}: ${p.message}`),
    [
      "mode: must be one of: enforce, audit",
      "remoteClusters[0].connectivity: must be one of: nat, routed",
      "remoteClusters[1].name: must be a lowercase RFC 1123 label: a-z, 0-9 and '-', starting and ending with an alphanumeric, at most 63 characters",
      "baseline.dns.ports: must have at least 1 item",
      "rules.named-port-to-cidr: must be one of: deny, warn, off",
      'cluster.podCIDRs[0]: "10.8.0.0/33" is not a valid IPv4 or IPv6 CIDR',
      'remoteClusters[0].natSourceCIDRs[0]: "203.0.113.300/32" is not a valid IPv4 or IPv6 CIDR',
      'remoteClusters[2].name: "aws-east" is already another remote cluster\'s name; names must be unique',
      "rules.pinned-remote-pod-ip: deny is only allowed for provable rules; pinned-remote-pod-ip is likely (a warning at most): use warn or off",
    ],
    "structural problems do not hold back the checks on the parts that are well-formed",
  );
  for (const p of [...schemaProblems, ...crossProblems, ...mixed, ...structural]) t.ok(p.message.length > 0, `${p.path} has a reason`);
});

t.test("checks beyond the schema skip the fields the schema rejected", async (t) => {
  const shapes = problemsOf({
    ...minimal(),
    cluster: "gcp-west",
    remoteClusters: [null, "aws-east", { name: "x", connectivity: "routed", natSourceCIDRs: "203.0.113.1/32" }],
    clusterLabel: 7,
    rules: [],
  });
  t.same(
    shapes.map((p) => p.path),
    ["cluster", "remoteClusters[0]", "remoteClusters[1]", "remoteClusters[2].natSourceCIDRs", "clusterLabel", "rules"],
    "one problem per malformed field, and no crash",
  );
  rejects(t, { ...minimal(), cluster: { name: "gcp-west", podCIDRs: ["10.8.0.0/14", 10] } }, "cluster.podCIDRs[1]", /must be a string/);
  rejects(t, withBase((d) => (d.remoteClusters[1].name = "GCP-West")), "remoteClusters[1].name", /RFC 1123 label/);
});
