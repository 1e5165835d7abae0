/**
 * Edge-case NetworkPolicy manifests, generated systematically, each written as a user would write
 * it (YAML 1.1 scalars left bare on purpose). The differential test sends every one to kubectl and
 * the real kube-apiserver, and to netguard's reader and validator, and compares the verdicts.
 */

export interface Case {
  /** What the case is about, for the report. */
  about: string;
  text: string;
  json?: boolean;
}

/** Namespaces the corpus uses that must exist (the apiserver refuses a policy in a missing namespace). */
export const NAMESPACES = ["team-a", "a", "x".repeat(63), "ns-1"];

const HEADER = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n";
const indent = (text: string, by: string): string => text.replace(/\n(?=.)/g, `\n${by}`);

/** A policy with raw YAML for metadata fields and spec fields (each a block of lines). */
function policy(about: string, parts: { meta?: string; spec?: string; top?: string; name?: string } = {}): Case {
  const meta = parts.meta ?? `name: ${parts.name ?? "p"}`;
  const spec = parts.spec ?? "podSelector: {}";
  return { about, text: `${HEADER}metadata:\n  ${indent(meta, "  ")}\nspec:\n  ${indent(spec, "  ")}\n${parts.top ?? ""}` };
}

const ingressFrom = (peer: string): string => `podSelector: {}\ningress:\n- from:\n  - ${indent(peer, "    ")}`;
const ingressPorts = (port: string): string => `podSelector: {}\ningress:\n- ports:\n  - ${indent(port, "    ")}`;

const CIDRS = [
  "10.0.0.0/8", "10.0.0.5/8", "0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/32", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0", "/8",
  "010.000.000.000/8", "10.0.0.0001/32", "0010.0.0.0/8", "10.0.0.0/08", "10.0.0.0/0008", "10.0.0.0/000000008", "10.0.0.256/32",
  "10.0.0/24", "10.0.0.0.0/24", "10..0.0/24", "10.0.0.-1/32", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "' 10.0.0.0/8'",
  "'10.0.0.0/8 '", "10.0.0.0/0x8", "1.2.3.4/24", "fd00::/8", "fd00::1/8", "::/0", "::1/128", "::/129", "FD00:0100:0000::/56",
  "fd00:0:0:0:0:0:0:0/64", "00fd::/16", "0000000fd::/16", "12345::/16", "fd00::/0064", "1:2:3:4:5:6:7:8/128", "1:2:3:4:5:6:7::/128",
  "::2:3:4:5:6:7:8/128", "1:2:3:4:5:6:7:8:9/128", "1:2:3:4:5:6:7/128", "1::2::3/128", ":::/0", "'::ffff:10.0.0.0/104'",
  "'::ffff:10.0.0.0/96'", "'::ffff:0:0/96'", "'::ffff:1.2.3.4/128'", "'::1.2.3.4/128'", "'64:ff9b::192.0.2.0/120'",
  "'::ffff:1.2.3/128'", "'::ffff:1.2.3.256/128'", "'1:2:3:4:5:6:1.2.3.4/128'", "'1:2:3:4:5:6:7:1.2.3.4/128'",
  "'fe80::1%eth0/64'", "fg00::/16", "'10.0.0.0/8'", '"fd00::/8"', "''", "not-a-cidr", "10", "1e3", "null", "[]",
];

const EXCEPTS: [string, string[]][] = [
  ["10.0.0.0/8", ["10.1.0.0/16"]], ["10.0.0.0/8", ["10.0.0.0/8"]], ["10.0.0.0/8", ["10.0.0.0/9"]], ["10.0.0.0/8", ["11.0.0.0/16"]],
  ["10.0.0.0/8", ["10.1.0.0/16", "10.2.0.0/16"]], ["10.0.0.0/8", ["10.0.0.0/7"]], ["10.0.0.0/8", ["fd00::/16"]],
  ["10.0.0.0/8", ["'::ffff:10.1.0.0/112'"]], ["10.0.0.0/8", ["'::ffff:10.0.0.0/104'"]], ["10.0.0.0/8", ["'::ffff:10.0.0.0/100'"]],
  ["10.0.0.0/8", ["'::ffff:11.0.0.0/112'"]], ["'::ffff:10.0.0.0/104'", ["10.1.0.0/16"]], ["'::ffff:10.0.0.0/104'", ["'::ffff:10.1.0.0/112'"]],
  ["::/0", ["'::ffff:10.0.0.0/104'"]], ["::/0", ["'::ffff:0:0/96'"]], ["::/0", ["'::ffff:0:0/95'"]], ["::/0", ["10.0.0.0/8"]],
  ["fd00::/8", ["fd00::/16"]], ["fd00::/8", ["fd00::/8"]], ["fd00::/8", ["fe00::/16"]], ["0.0.0.0/0", ["'::ffff:0:0/96'"]],
  ["10.0.0.0/8", ["010.001.000.000/16"]], ["10.0.0.0/8", ["10.1.0.0/0016"]], ["10.0.0.0/8", ["10.1.0.5/16"]], ["10.0.0.0/8", ["10.1.0.0"]],
  ["10.0.0.0/8", ["null"]], ["10.0.0.0/8", ["''"]], ["10.0.0.0/8", []], ["0.0.0.0/0", ["0.0.0.0/0"]], ["10.0.0.5/8", ["10.0.0.0/9"]],
];

const PORTS = [
  "80", "0", "1", "65535", "65536", "-1", "010", "08", "0x50", "0o120", "0b1010000", "1_000", "8_0", "80.0", "80.5", "1e3", "+80",
  '"80"', "'80'", "http", "HTTP", "web-1", "a", "1a", "-web", "web-", "web--x", "abcdefghijklmno", "abcdefghijklmnop", "x_y", "'8080'",
  "yes", "true", "null", "~", "2147483648", "99999999999999999999", ".5", "[80]", "{}", "''", "1e400", "!!str 80", "!!int '80'",
];

const PROTOCOLS = ["TCP", "UDP", "SCTP", "tcp", "ICMP", "''", "null", "1", "yes"];

const END_PORTS: [string, string][] = [
  ["80", "90"], ["80", "80"], ["90", "80"], ["80", "65536"], ["80", "0"], ["http", "90"], ["null", "90"], ["80", "null"], ["80", '"90"'],
  ["80", "010"], ["80", "90.0"], ["80", "1_000"], ["010", "9"], ["80", "-1"], ["65535", "65535"],
];

const LABEL_KEYS = [
  "app", "App", "a.b", "a_b", "a-b", "-a", "a-", "_a", "a/b", "example.com/app", "Example.com/app", "/app", "example.com/",
  "a/b/c", "k8s.io/app", "a".repeat(63), "a".repeat(64), `${"a".repeat(253)}/app`, `${"a".repeat(254)}/app`,
  `${"a.".repeat(126)}a/${"b".repeat(63)}`, `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}/${"e".repeat(63)}`,
  "x.-y/app", "ex_ample.com/app", "'1'", "1", "010", "yes", "y", "on", "null", "~", "1.5", "1e3", "'a b'", "\"a\\tb\"", "'ä'",
];

const LABEL_VALUES = [
  "web", "''", "Web", "a.b", "a_b", "-a", "a-", "'a b'", "a".repeat(63), "a".repeat(64), "1", "010", "0x1F", "1.5", "yes", "no",
  "on", "off", "y", "n", "'yes'", "true", "null", "~", "2024-01-01", "'2024-01-01'", "1_000", "'ä'", "!!str 1", "[a]",
];

const OPERATORS: [string, string][] = [
  ["In", "[a]"], ["In", "[]"], ["In", "null"], ["NotIn", "[a, b]"], ["Exists", "[]"], ["Exists", "[a]"], ["DoesNotExist", "null"],
  ["in", "[a]"], ["Equals", "[a]"], ["''", "[a]"], ["null", "[a]"], ["In", "[null]"], ["In", "['']"], ["In", "[yes]"], ["In", "[1]"],
  ["In", "['a b']"], ["NotIn", `[${"a".repeat(64)}]`], ["In", "[a, a]"], ["Exists", "null"], ["In", "a"],
];

const NAMES = [
  "web", "Web", "web.app", "web_app", "-web", "web-", "a", "1", "'1'", "010", "yes", "a".repeat(63), "a".repeat(64), "a".repeat(253),
  "a".repeat(254), `${"a".repeat(63)}.${"b".repeat(63)}`, "a..b", ".a", "a/b", "a%b", "''", "null", "[a]",
];

const GENERATE_NAMES = ["web-", "web", "Web-", "-", "a".repeat(253), "a".repeat(254), "web.", "web_"];

const NAMESPACE_VALUES = ["team-a", "Team-a", "team.a", "a", "x".repeat(63), "''", "null", "ns-1"];

const ANNOTATIONS = [
  "a: b", "A/b: c", "Example.com/x: y", "example.com/X: y", "'a b': c", "a: 1", "a: yes", "a: null", "a: ''",
  `big: ${"x".repeat(262_000)}`, `big: ${"x".repeat(262_142)}`, "'\u212Aey': v", "a/b/c: d", `${"a".repeat(64)}: b`,
];

const FINALIZERS = [
  "[example.com/cleanup]", "[cleanup]", "[Example.com/cleanup]", "['a b']", "[orphan]", "[orphan, foregroundDeletion]", "[null]",
  "[a/b/c]", "[]", "null", "[1]",
];

const OWNER_REFERENCES = [
  "[{apiVersion: v1, kind: ConfigMap, name: c, uid: u}]", "[{apiVersion: '', kind: ConfigMap, name: c, uid: u}]",
  "[{apiVersion: v1, kind: '', name: c, uid: u}]", "[{apiVersion: v1, kind: ConfigMap, name: c}]", "[{apiVersion: v1, kind: Event, name: c, uid: u}]",
  "[{apiVersion: a/b/c, kind: X, name: c, uid: u}]", "[{apiVersion: apps/v1, kind: D, name: c, uid: u, controller: true}, {apiVersion: apps/v1, kind: E, name: d, uid: v, controller: true}]",
  "[{apiVersion: v1, kind: ConfigMap, name: c, uid: u, controller: yes}]", "[null]", "[{apiVersion: v1, kind: C, name: c, uid: u, extra: 1}]",
];

const OTHER_META = [
  "uid: 123e4567-e89b-12d3-a456-426614174000", "resourceVersion: '12'", "generation: 5", "generation: -1", "generation: '5'",
  "creationTimestamp: 2024-01-31T12:00:00Z", "creationTimestamp: null", "creationTimestamp: yesterday", "creationTimestamp: '2024-02-30T00:00:00Z'",
  "selfLink: /x", "managedFields: []", "deletionGracePeriodSeconds: 30", "clusterName: x", "Name: x", "labels: null", "annotations: {}",
  "labels: []", "labels: x",
];

const NULLS = [
  "spec: null", "spec:", "spec: {}", "spec: {podSelector: null}", "spec: {podSelector: {}, ingress: null}", "spec: {podSelector: {}, ingress: [null]}",
  "spec: {podSelector: {}, egress: [null]}", "spec: {podSelector: {}, ingress: [{ports: [null]}]}", "spec: {podSelector: {}, ingress: [{from: [null]}]}",
  "spec: {podSelector: {}, ingress: [{from: null, ports: null}]}", "spec: {podSelector: {matchLabels: null, matchExpressions: null}}",
  "spec: {podSelector: {matchLabels: {a: null}}}", "spec: {podSelector: {matchLabels: {'bad key': null}}}", "spec: {podSelector: {matchExpressions: [null]}}",
  "spec: {podSelector: {}, policyTypes: [null]}", "spec: {podSelector: {}, policyTypes: null}", "spec: {podSelector: {}, ingress: [{from: [{podSelector: null}]}]}",
  "spec: {podSelector: {}, ingress: [{from: [{podSelector: null, namespaceSelector: {}}]}]}", "spec: {podSelector: {}, ingress: [{from: [{ipBlock: null}]}]}",
  "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: null}}]}]}", "spec: {podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: null}}]}]}",
  "spec: {podSelector: {}, ingress: [{ports: [{port: null, endPort: null, protocol: null}]}]}", "spec: {podSelector: {}, ingress: [{ports: [{endPort: 90}]}]}",
];

const UNKNOWN_FIELDS = [
  { top: "status: {}\n" }, { top: "extra: 1\n" }, { top: "Spec: {}\n" }, { meta: "name: p\nbogus: 1" }, { spec: "podSelector: {}\nfoo: 1" },
  { spec: "PodSelector: {}" }, { spec: "podSelector: {matchLabel: {a: b}}" }, { spec: ingressFrom("podSelectors: {}") },
  { spec: ingressFrom("ipBlock: {cidr: 10.0.0.0/8, excepts: []}") }, { spec: ingressPorts("port: 80\nendport: 90") },
  { spec: "podSelector: {matchExpressions: [{key: a, operator: Exists, value: [a]}]}" }, { spec: "podSelector: {}\ningress: [{from: [], to: []}]" },
];

const POLICY_TYPES = ["[Ingress]", "[Egress]", "[Ingress, Egress]", "[]", "[ingress]", "[Ingress, Ingress]", "[Ingress, Egress, Ingress]", "[Both]", "Ingress", "['']"];

const PEERS = [
  "podSelector: {}", "namespaceSelector: {}", "{podSelector: {}, namespaceSelector: {}}", "{}", "{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}",
  "{ipBlock: {cidr: 10.0.0.0/8}, namespaceSelector: {}}", "ipBlock: {}", "ipBlock: {except: [10.0.0.0/9]}",
];

/** Raw YAML documents: what YAML 1.1 and kubectl's reading make of them. */
const READING: Case[] = [
  { about: "top-level list", text: "- a\n- b\n" },
  { about: "top-level scalar", text: "hello\n" },
  { about: "top-level number", text: "42\n" },
  { about: "empty document", text: "# only a comment\n" },
  { about: "document separator with text", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {}}\n--- junk\n` },
  { about: "document separator with a comment", text: `--- # first\n${HEADER}metadata: {name: p}\nspec: {podSelector: {}}\n` },
  { about: "duplicate key last wins", text: `${HEADER}metadata: {name: a, name: b}\nspec: {podSelector: {}}\n` },
  { about: "duplicate key in spec", text: `${HEADER}metadata: {name: p}\nspec:\n  podSelector: {}\n  podSelector: {matchLabels: {a: b}}\n` },
  { about: "duplicate top-level key", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {}}\nspec: {podSelector: {matchLabels: {'bad key': b}}}\n` },
  { about: "merge key", text: `${HEADER}metadata: {name: p}\nspec:\n  podSelector: &s {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - podSelector:\n        <<: *s\n` },
  { about: "merge key overrides an earlier key", text: `${HEADER}metadata:\n  name: bad_name\n  <<: {name: good}\nspec: {podSelector: {}}\n` },
  { about: "earlier key survives a merge before it", text: `${HEADER}metadata:\n  <<: {name: good}\n  name: bad_name\nspec: {podSelector: {}}\n` },
  { about: "merge list precedence", text: `${HEADER}metadata:\n  <<: [{name: first}, {name: Second}]\nspec: {podSelector: {}}\n` },
  { about: "merge of a scalar", text: `${HEADER}metadata:\n  name: p\n  <<: 1\nspec: {podSelector: {}}\n` },
  { about: "quoted merge key is a field", text: `${HEADER}metadata:\n  name: p\n  "<<": {a: b}\nspec: {podSelector: {}}\n` },
  { about: "anchors and aliases", text: `${HEADER}metadata: {name: &n web}\nspec:\n  podSelector: {matchLabels: {app: *n}}\n` },
  { about: "undefined alias", text: `${HEADER}metadata: {name: *nope}\nspec: {podSelector: {}}\n` },
  { about: "recursive alias", text: `${HEADER}metadata: {name: p}\nspec: &s {podSelector: {}, x: *s}\n` },
  { about: "tab indentation", text: `${HEADER}metadata:\n\tname: p\nspec: {podSelector: {}}\n` },
  { about: "unclosed quote", text: `${HEADER}metadata: {name: 'p}\nspec: {podSelector: {}}\n` },
  { about: "bad indentation", text: `${HEADER}metadata:\n  name: p\n   x: 1\nspec: {podSelector: {}}\n` },
  { about: "CRLF line ends", text: `${HEADER}metadata:\n  name: p\nspec:\n  podSelector: {matchLabels: {a: b}}\n`.replace(/\n/g, "\r\n") },
  { about: "block scalar label value", text: `${HEADER}metadata: {name: p}\nspec:\n  podSelector:\n    matchLabels:\n      a: |\n        web\n` },
  { about: "folded block label value, stripped", text: `${HEADER}metadata: {name: p}\nspec:\n  podSelector:\n    matchLabels:\n      a: >-\n        web\n` },
  { about: "multi-line plain scalar", text: `${HEADER}metadata: {name: p}\nspec:\n  podSelector:\n    matchLabels:\n      a: web\n        app\n` },
  { about: "NaN value", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {a: .nan}}}\n` },
  { about: "infinite port", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {}, ingress: [{ports: [{port: .inf}]}]}\n` },
  { about: "null map key", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {~: a}}}\n` },
  { about: "float map key", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {1.50: a, 1e7: b, 0.1: c}}}\n` },
  { about: "bool map keys y and on", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {y: a, on: b, n: c}}}\n` },
  { about: "int map key in octal and hex", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {010: a, 0x1F: b}}}\n` },
  { about: "list as map key", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {[a]: b}}}\n` },
  { about: "uint64 map key", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {18446744073709551615: b}}}\n` },
  { about: "timestamp-like key and value", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {2024-01-01: 2024-01-01}}}\n` },
  { about: "!!binary label value", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {a: !!binary d2Vi}}}\n` },
  { about: "!!int on a non-number", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {}, ingress: [{ports: [{port: !!int http}]}]}\n` },
  { about: "!!float port", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {}, ingress: [{ports: [{port: !!float 80}]}]}\n` },
  { about: "custom tag", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {matchLabels: {a: !foo web}}}\n` },
  { about: "non-specific tag keeps text", text: `${HEADER}metadata: {name: p}\nspec: {podSelector: {}, ingress: [{ports: [{port: ! 010}]}]}\n` },
  { about: "BOM", text: `\uFEFF${HEADER}metadata: {name: p}\nspec: {podSelector: {}}\n` },
  { about: "List of policies", text: `apiVersion: v1\nkind: List\nitems:\n- ${indent(`${HEADER}metadata: {name: p}\nspec: {podSelector: {}}`, "  ")}\n` },
  { about: "calico policy skipped", text: `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {selector: all()}\n` },
  { about: "old networking version", text: `apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}}\n` },
  { about: "JSON", json: true, text: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p"},"spec":{"podSelector":{},"ingress":[{"ports":[{"port":80.0}]}]}}\n` },
  { about: "JSON duplicate keys", json: true, text: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"Bad","name":"p"},"spec":{"podSelector":{}}}\n` },
  { about: "JSON with a leading-zero number", json: true, text: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p"},"spec":{"podSelector":{},"ingress":[{"ports":[{"port":010}]}]}}\n` },
  { about: "JSON with a fraction", json: true, text: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p"},"spec":{"podSelector":{},"ingress":[{"ports":[{"port":80.5}]}]}}\n` },
];

export function generateCorpus(): Case[] {
  const cases: Case[] = [...READING];
  for (const cidr of CIDRS) cases.push(policy(`cidr ${cidr}`, { spec: ingressFrom(`ipBlock: {cidr: ${cidr}}`) }));
  for (const cidr of CIDRS.slice(0, 12)) cases.push(policy(`egress cidr ${cidr}`, { spec: `podSelector: {}\negress:\n- to:\n  - ipBlock: {cidr: ${cidr}}` }));
  for (const [cidr, except] of EXCEPTS) cases.push(policy(`except ${cidr} ${except.join(" ")}`, { spec: ingressFrom(`ipBlock: {cidr: ${cidr}, except: [${except.join(", ")}]}`) }));
  for (const port of PORTS) cases.push(policy(`port ${port}`, { spec: ingressPorts(`port: ${port}`) }));
  for (const protocol of PROTOCOLS) cases.push(policy(`protocol ${protocol}`, { spec: ingressPorts(`protocol: ${protocol}\nport: 80`) }));
  for (const [port, end] of END_PORTS) cases.push(policy(`endPort ${port}-${end}`, { spec: ingressPorts(`port: ${port}\nendPort: ${end}`) }));
  for (const key of LABEL_KEYS) {
    cases.push(policy(`matchLabels key ${key.slice(0, 40)}`, { spec: `podSelector:\n  matchLabels:\n    ${key}: web` }));
    cases.push(policy(`expression key ${key.slice(0, 40)}`, { spec: `podSelector:\n  matchExpressions:\n  - {key: ${key}, operator: Exists}` }));
    cases.push(policy(`label key ${key.slice(0, 40)}`, { meta: `name: p\nlabels:\n  ${key}: web` }));
  }
  for (const value of LABEL_VALUES) {
    cases.push(policy(`matchLabels value ${value.slice(0, 40)}`, { spec: `podSelector:\n  matchLabels:\n    app: ${value}` }));
    cases.push(policy(`namespaceSelector value ${value.slice(0, 40)}`, { spec: ingressFrom(`namespaceSelector:\n  matchLabels:\n    app: ${value}`) }));
    cases.push(policy(`label value ${value.slice(0, 40)}`, { meta: `name: p\nlabels:\n  app: ${value}` }));
  }
  for (const [operator, values] of OPERATORS) {
    cases.push(policy(`operator ${operator} ${values.slice(0, 30)}`, { spec: `podSelector:\n  matchExpressions:\n  - key: app\n    operator: ${operator}\n    values: ${values}` }));
  }
  for (const name of NAMES) cases.push(policy(`name ${name.slice(0, 40)}`, { meta: `name: ${name}` }));
  cases.push(policy("no name", { meta: "namespace: team-a" }));
  for (const g of GENERATE_NAMES) cases.push(policy(`generateName ${g.slice(0, 40)}`, { meta: `generateName: ${g}` }));
  cases.push(policy("generateName and name", { meta: "name: p\ngenerateName: Bad_" }));
  for (const ns of NAMESPACE_VALUES) cases.push(policy(`namespace ${ns.slice(0, 40)}`, { meta: `name: p\nnamespace: ${ns}` }));
  for (const a of ANNOTATIONS) cases.push(policy(`annotation ${a.slice(0, 40)}`, { meta: `name: p\nannotations:\n  ${a}` }));
  for (const f of FINALIZERS) cases.push(policy(`finalizers ${f}`, { meta: `name: p\nfinalizers: ${f}` }));
  for (const o of OWNER_REFERENCES) cases.push(policy(`ownerReferences ${o.slice(0, 40)}`, { meta: `name: p\nownerReferences: ${o}` }));
  for (const m of OTHER_META) cases.push(policy(`metadata ${m}`, { meta: `name: p\n${m}` }));
  for (const n of NULLS) {
    const text = `${HEADER}metadata: {name: p}\n${n}\n`;
    cases.push({ about: `null ${n}`, text });
  }
  cases.push({ about: "no spec", text: `${HEADER}metadata: {name: p}\n` });
  cases.push({ about: "metadata null", text: `${HEADER}metadata: null\nspec: {}\n` });
  for (const u of UNKNOWN_FIELDS) cases.push(policy(`unknown field ${JSON.stringify(u).slice(0, 50)}`, u));
  for (const t of POLICY_TYPES) cases.push(policy(`policyTypes ${t}`, { spec: `podSelector: {}\npolicyTypes: ${t}` }));
  cases.push(policy("egress without policyTypes", { spec: "podSelector: {}\negress: [{}]" }));
  for (const p of PEERS) cases.push(policy(`peer ${p}`, { spec: ingressFrom(p) }));
  return cases;
}
