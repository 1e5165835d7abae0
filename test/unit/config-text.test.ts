/** A GuardrailConfig's text: every problem of the YAML or the config is a problem with a line, never a throw. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { formatProblems, parseConfigText } from "../../server/config/file.js";
import { MAX_EXPANDED_NODES } from "../../server/config/yaml-document.js";
import { repoRoot } from "../helpers/paths.js";

const MULTICLOUD = readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8");
const HEAD = "apiVersion: netguard.dev/v1alpha1\nkind: GuardrailConfig\ncluster:\n  name: gcp-west\n";

/** The problems of `text`, as `netguard check` prints them for a file c.yaml. */
function problems(text: string): string[] {
  const result = parseConfigText(text);
  if (result.ok) throw new Error(`expected the config to be refused:\n${text}`);
  return formatProblems("c.yaml", result.problems).split("\n").map((l) => l.trim());
}

t.test("an alias without an anchor is named with its field and line", async (t) => {
  t.same(problems(`${HEAD}exemptNamespaces: *system\n`), ["c.yaml:5: exemptNamespaces: alias *system has no anchor &system before it"]);
  t.same(problems(`${HEAD}exemptNamespaces: [*a]\nx: &a kube-system\n`), ["c.yaml:5: exemptNamespaces[0]: alias *a has no anchor &a before it"], "an anchor after the alias does not count");
});

t.test("an alias bomb is refused without being expanded", async (t) => {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
  const found = problems(`${levels.join("\n")}\n`);
  t.equal(found.length, 1);
  t.match(found[0], new RegExp(`^c\\.yaml:5: e\\[\\d+\\]: alias \\*d expands the document beyond ${MAX_EXPANDED_NODES} nodes \\(an alias bomb\\)`));
});

t.test("an alias inside the node it names is a cycle", async (t) => {
  t.same(problems(`${HEAD}rules: &r {nat-hidden-cidr: *r}\n`), ["c.yaml:5: rules.nat-hidden-cidr: alias *r refers to a node that contains it (a cycle)"]);
});

t.test("aliases used as YAML intends are fine", async (t) => {
  const text = `${HEAD}  podCIDRs: &pods [10.8.0.0/14]\nremoteClusters:\n  - name: aws-east\n    connectivity: routed\n    podCIDRs: [10.100.0.0/16]\n    namespaces: &ns [payments]\n  - name: dc-north\n    connectivity: routed\n    namespaces: *ns\nexemptNamespaces: [kube-system]\n`;
  const result = parseConfigText(text);
  t.ok(result.ok, result.ok ? "" : result.problems.map((p) => p.message).join("; "));
  if (result.ok) t.same(result.loaded.config.remoteClusters[1]?.namespaces, ["payments"]);
});

t.test("a document that is not a map, or not one document", async (t) => {
  t.same(problems("- cluster: a\n- b\n"), ["c.yaml:1: (document): must be a map (key: value entries), not a list"]);
  t.same(problems("gcp-west\n"), ["c.yaml:1: (document): must be a map (key: value entries), not a string"]);
  t.same(problems("# nothing but a comment\n"), ["c.yaml:1: is empty: expected a GuardrailConfig (apiVersion, kind, cluster, ...)"]);
  t.same(problems(""), ["c.yaml:1: is empty: expected a GuardrailConfig (apiVersion, kind, cluster, ...)"]);
  t.same(problems(`${HEAD}---\n${HEAD}`), ["c.yaml:5: a second YAML document starts here ('---'); a GuardrailConfig is a single document"]);
});

t.test("duplicate keys name the key, the line, and the first occurrence", async (t) => {
  t.same(problems(`${HEAD}mode: audit\nmode: enforce\n`), ["c.yaml:6: mode: duplicate key (first at line 5); YAML keys must be unique"]);
  t.same(problems(`${HEAD}  name: gcp-east\n`), ["c.yaml:5: cluster.name: duplicate key (first at line 4); YAML keys must be unique"]);
});

t.test("unknown tags, syntax errors and nesting too deep to read", async (t) => {
  t.same(problems(`${HEAD}mode: !strict audit\n`), ["c.yaml:5: Unresolved tag: !strict"]);
  t.match(problems(`${HEAD}cluster: [unclosed\n`)[0], /^c\.yaml:\d+: /);
  t.same(problems(`a: ${"[".repeat(5000)}${"]".repeat(5000)}\n`), ["c.yaml:1: is nested too deeply to read"]);
});

t.test("schema and cross-check problems carry the line of their field, in line order", async (t) => {
  const text = `${HEAD}remoteClusters:\n  - name: aws-east\n    connectivity: nat\n    podCIDRs: [10.100.0.0/33]\n    snatToNodes: true\nsurprise: 1\nbaseline:\n  dns:\n    podSelector:\n      matchExpressions:\n        - {key: k8s-app, operator: In}\n`;
  t.same(problems(text), [
    'c.yaml:8: remoteClusters[0].podCIDRs[0]: "10.100.0.0/33" is not a valid IPv4 or IPv6 CIDR',
    "c.yaml:9: remoteClusters[0].snatToNodes: only meaningful with connectivity: routed (nat already hides pod addresses)",
    "c.yaml:10: surprise: unknown field",
    "c.yaml:15: baseline.dns.podSelector.matchExpressions[0].values: must be non-empty when operator is In",
  ]);
  t.same(problems(`${HEAD.replace("cluster:\n  name: gcp-west\n", "")}mode: audit\n`), ["c.yaml:1: cluster: required field is missing"], "a missing field is placed at its parent");
});

t.test("no mangling of the shipped config ever throws; every problem has a line", async (t) => {
  // Deterministic pseudo-random edits: deletions, duplications and YAML punctuation in random places.
  let seed = 12345;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const junk = ["*", "&", "*a", "&a ", "---\n", "- ", ": ", "{", "]", "\t", "!!", "? ", "|\n", "'", '"', "#", "\n  ", "<<: *a\n"];
  let refused = 0;
  for (let i = 0; i < 400; i++) {
    let text = MULTICLOUD;
    for (let edits = 1 + random(3); edits > 0; edits--) {
      const at = random(text.length);
      const cut = random(4) === 0 ? random(20) : 0;
      text = text.slice(0, at) + junk[random(junk.length)] + text.slice(at + cut);
    }
    const result = parseConfigText(text);
    if (result.ok) continue;
    refused += 1;
    for (const p of result.problems) {
      if (!(typeof p.line === "number" && p.line >= 1 && p.message.length > 0)) t.fail(`a problem without a line or message: ${JSON.stringify(p)}\n${text}`);
    }
  }
  t.ok(refused > 200, `most mangled configs are refused (${refused} of 400)`);
});
