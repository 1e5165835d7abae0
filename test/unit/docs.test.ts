/**
 * Keeps the user docs honest: every rule has a page, every page's examples behave as the page
 * says when run through the real engine, the findings quoted in the docs are the ones the engine
 * produces, and the configuration reference covers every field of the shipped schema.
 *
 * Conventions the docs follow (see docs/rules/README.md):
 * - ```yaml fires / ```yaml passes: one complete NetworkPolicy each; ```yaml fires cilium, ```yaml passes cilium,
 *   ```yaml fires calico, ```yaml passes calico: the same for a Cilium and a Calico policy kind;
 * - ```yaml config: a GuardrailConfig used by that page instead of docs/examples/multicloud-config.yaml;
 * - ```text finding: `rule:`, `path:`, `message:` and `fix:` lines copied from a real run of `netguard check`
 *   (offline: cluster-state premises assumed);
 * - a "## Premises" section naming every premise the page's findings rest on.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import {
  buildBaselinePolicy,
  defaultConfig,
  evaluatePolicy,
  guardrailConfigSchema,
  loadConfig,
  rules,
  type Finding,
  type LoadedConfig,
} from "../../policies/index.js";
import type { Rule } from "../../policies/rules/rule.js";
import { repoRoot } from "../helpers/paths.js";
import { fencedBlocks, parseManifest, parseOne, parseQuotedFinding } from "./markdown.js";

const docs = join(repoRoot, "docs");
const rulesDir = join(docs, "rules");
const sharedConfigPath = join(docs, "examples", "multicloud-config.yaml");

function loadConfigText(text: string, where: string): LoadedConfig {
  const result = loadConfig(parseOne(text, where));
  if (!result.ok) throw new Error(`${where} is not a valid GuardrailConfig: ${JSON.stringify(result.problems)}`);
  return result.loaded;
}

/** "| Certainty | provable |" rows of the page's summary table, keyed by lower-cased first cell. */
function tableRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split("\n")) {
    const cells = /^\|([^|]+)\|([^|]+)\|\s*$/.exec(line);
    if (cells) rows.set(cells[1]!.trim().toLowerCase(), cells[2]!.trim().replace(/`/g, ""));
  }
  return rows;
}

/** The kinds each page shows examples of: ```yaml fires, ```yaml fires cilium, ```yaml fires calico (and passes). */
const EXAMPLE_KINDS = {
  networkpolicy: ["networking.k8s.io/v1 NetworkPolicy"],
  cilium: ["cilium.io/v2 CiliumNetworkPolicy", "cilium.io/v2 CiliumClusterwideNetworkPolicy"],
  calico: ["projectcalico.org/v3 NetworkPolicy", "projectcalico.org/v3 GlobalNetworkPolicy"],
} as const satisfies Record<string, readonly string[]>;

const expectedScope = (rule: Rule): string => (rule.remoteSelectorRule ? "local-only" : "any");

t.test("the shared example config is valid and raises no notes", async (t) => {
  const loaded = loadConfigText(readFileSync(sharedConfigPath, "utf8"), "docs/examples/multicloud-config.yaml");
  t.equal(loaded.config.cluster.name, "gcp-west");
  t.same(
    loaded.config.remoteClusters.map((r) => [r.name, r.connectivity]),
    [
      ["aws-east", "nat"],
      ["azure-north", "routed"],
    ],
  );
  t.same(loaded.notes, [], "no overlapping ranges in the shared topology");
});

t.test("every rule page exists and there is no page without a rule", async (t) => {
  const ids = new Set<string>(rules.map((r) => r.id));
  for (const id of ids) t.ok(existsSync(join(rulesDir, `${id}.md`)), `docs/rules/${id}.md exists`);
  for (const file of readdirSync(rulesDir)) {
    if (file === "README.md" || !file.endsWith(".md")) continue;
    t.ok(ids.has(file.slice(0, -3)), `docs/rules/${file} documents a rule in the registry`);
  }
});

for (const rule of rules) {
  t.test(`docs/rules/${rule.id}.md`, async (t) => {
    const path = join(rulesDir, `${rule.id}.md`);
    if (!existsSync(path)) {
      t.fail(`docs/rules/${rule.id}.md is missing`);
      return;
    }
    const markdown = readFileSync(path, "utf8");
    const lines = markdown.split("\n").filter((l) => l.trim() !== "");
    t.equal(lines[0], `# ${rule.id}`, "first line is the rule id as a title");
    t.equal(lines[1], rule.title, "second line is the rule's title from the registry");

    const table = tableRows(markdown);
    t.equal(table.get("certainty"), rule.certainty, "table: certainty");
    t.equal(table.get("default action"), rule.defaultAction, "table: default action");
    t.equal(table.get("applies when policyscope is"), expectedScope(rule), "table: policyScope");

    for (const heading of ["## What it checks", "## Premises", "## Why", "## Example that fires", "## Example that passes", "## How to fix"]) {
      t.ok(markdown.includes(`\n${heading}\n`), `has a "${heading}" section`);
    }

    const blocks = fencedBlocks(markdown);
    const configs = blocks.filter((b) => b.info === "yaml config");
    t.ok(configs.length <= 1, "at most one page-specific config");
    const loaded = configs[0]
      ? loadConfigText(configs[0].body, `${rule.id}.md:${configs[0].line} (yaml config)`)
      : loadConfigText(readFileSync(sharedConfigPath, "utf8"), "docs/examples/multicloud-config.yaml");

    const example = (b: { info: string }) => /^yaml (fires|passes)(?: (cilium|calico))?$/.exec(b.info);
    const examples = blocks.filter((b) => example(b));
    for (const [syntax, kinds] of Object.entries(EXAMPLE_KINDS)) {
      const suffix = syntax === "networkpolicy" ? "" : ` ${syntax}`;
      t.ok(examples.some((b) => b.info === `yaml fires${suffix}`), `has a \`\`\`yaml fires${suffix} example (${kinds.join(" or ")})`);
      t.ok(examples.some((b) => b.info === `yaml passes${suffix}`), `has a \`\`\`yaml passes${suffix} example (${kinds.join(" or ")})`);
    }

    const produced: Finding[] = [];
    for (const block of examples) {
      const [, verdict, syntax = "networkpolicy"] = example(block)!;
      const where = `${rule.id}.md:${block.line} (${block.info})`;
      const object = parseManifest(block.body, where) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
      t.ok((EXAMPLE_KINDS[syntax as keyof typeof EXAMPLE_KINDS] as readonly string[]).includes(`${String(object.apiVersion)} ${String(object.kind)}`), `${where}: apiVersion and kind of a ${syntax} policy`);
      t.type(object.metadata?.name, "string", `${where}: metadata.name`);
      if (!String(object.kind).startsWith("Global") && !String(object.kind).includes("Clusterwide")) t.type(object.metadata?.namespace, "string", `${where}: metadata.namespace`);

      const result = evaluatePolicy(object, loaded, { origin: "offline" });
      t.same(result.inputErrors, [], `${where}: a valid policy`);
      t.same(result.ruleFailures, [], `${where}: no rule threw`);
      const own = result.findings.filter((f) => f.rule === rule.id);
      if (verdict === "fires") {
        t.ok(own.length > 0, `${where}: produces a finding of ${rule.id}`, { findings: result.findings });
        produced.push(...own);
      } else {
        t.same(own, [], `${where}: produces no finding of ${rule.id}`);
        // A "passes" example is the recommended fix: it should not trip any other rule either.
        t.same(result.findings, [], `${where}: produces no finding at all`);
      }
    }

    const premises = new Set(produced.flatMap((f) => f.premises ?? []).map((p) => p.id.split(":")[0]!));
    const section = markdown.split("\n## Premises\n")[1]?.split("\n## ")[0] ?? "";
    for (const id of premises) t.ok(section.includes(`\`${id}`), `the Premises section names ${id}`);

    const quoted = blocks.filter((b) => b.info === "text finding");
    t.ok(quoted.length >= 1, "quotes the finding the fires example produces (```text finding)");
    for (const block of quoted) {
      const q = parseQuotedFinding(block);
      t.equal(q.rule, rule.id, `${rule.id}.md:${block.line}: the quoted finding is this rule's`);
      const match = produced.find((f) => f.path === q.path);
      t.ok(match, `${rule.id}.md:${block.line}: a fires example produces a finding at ${q.path}`, {
        produced: produced.map((f) => f.path),
      });
      if (!match) continue;
      t.equal(q.action, match.action, `${rule.id}.md:${block.line}: action as produced`);
      t.equal(q.message, match.message, `${rule.id}.md:${block.line}: message as produced`);
      t.equal(q.fix, match.fix, `${rule.id}.md:${block.line}: fix as produced`);
    }
  });
}

t.test("docs/rules/README.md lists every rule", async (t) => {
  const markdown = readFileSync(join(rulesDir, "README.md"), "utf8");
  for (const rule of rules) {
    const row = markdown.split("\n").find((l) => l.startsWith(`| [\`${rule.id}\`](${rule.id}.md) |`));
    t.ok(row, `the table has a row for ${rule.id} linking to its page`);
    if (!row) continue;
    const cells = row.split("|").map((c) => c.trim());
    // ["", id link, title, certainty, default action, ""]
    t.equal(cells[2], rule.title, `${rule.id}: title`);
    t.equal(cells[3], rule.certainty, `${rule.id}: certainty`);
    t.equal(cells[4], rule.defaultAction, `${rule.id}: default action`);
  }
});

/** Dotted paths of every field the schema accepts: cluster.podCIDRs, remoteClusters[].name, rules.<id>... */
function schemaFields(schema: Record<string, unknown>, prefix = ""): string[] {
  const definitions = (guardrailConfigSchema as { definitions?: Record<string, Record<string, unknown>> }).definitions ?? {};
  const resolve = (s: Record<string, unknown>): Record<string, unknown> => {
    const ref = s.$ref;
    if (typeof ref !== "string") return s;
    return { ...definitions[ref.replace("#/definitions/", "")], ...s, $ref: undefined };
  };
  const s = resolve(schema);
  const out: string[] = [];
  const properties = s.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [name, sub] of Object.entries(properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push(path);
    const inner = resolve(sub);
    if (inner.properties) out.push(...schemaFields(inner, path));
    const items = inner.items as Record<string, unknown> | undefined;
    if (items && resolve(items).properties) out.push(...schemaFields(resolve(items), `${path}[]`));
  }
  return out;
}

t.test("docs/configuration.md documents every GuardrailConfig field", async (t) => {
  const markdown = readFileSync(join(docs, "configuration.md"), "utf8");
  const fields = schemaFields(guardrailConfigSchema as Record<string, unknown>).filter(
    // Individual rule ids are documented together as rules.<id>; selectors' own fields are Kubernetes'.
    (f) => !/(^|\.)rules\./.test(f) && !/\.(namespaceSelector|podSelector)\./.test(f),
  );
  t.ok(fields.length > 20, "walked the schema");
  for (const field of fields) t.ok(markdown.includes(`\`${field}\``), `configuration.md mentions \`${field}\``);
});

t.test("the validation errors quoted in docs/configuration.md are the ones users see", async (t) => {
  const markdown = readFileSync(join(docs, "configuration.md"), "utf8");
  const blocks = fencedBlocks(markdown);
  const invalid = blocks.filter((b) => b.info === "yaml invalid");
  t.ok(invalid.length >= 1, "has at least one ```yaml invalid example");
  for (const block of invalid) {
    const answer = blocks[blocks.indexOf(block) + 1];
    t.equal(answer?.info, "text problems", `configuration.md:${block.line}: followed by its \`\`\`text problems`);
    if (!answer) continue;
    const result = loadConfig(parseOne(block.body, `configuration.md:${block.line}`));
    t.notOk(result.ok, `configuration.md:${block.line}: rejected`);
    const problems = result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    t.same(problems, answer.body.trimEnd().split("\n"), `configuration.md:${block.line}: problems as listed`);
  }
  for (const block of blocks.filter((b) => b.info === "yaml valid")) {
    const result = loadConfig(parseOne(block.body, `configuration.md:${block.line}`));
    t.ok(result.ok, `configuration.md:${block.line}: accepted`, result.ok ? {} : { problems: result.problems });
  }
});

t.test("the baseline shown in docs/configuration.md is the one netguard builds", async (t) => {
  const blocks = fencedBlocks(readFileSync(join(docs, "configuration.md"), "utf8")).filter((b) => b.info === "yaml baseline");
  t.equal(blocks.length, 1, "one ```yaml baseline block");
  const shown = parseManifest(blocks[0]?.body ?? "", "configuration.md (yaml baseline)") as { metadata?: { namespace?: string } };
  t.same(shown, buildBaselinePolicy(shown.metadata?.namespace ?? "", defaultConfig().config));
});

t.test("test/fixtures/background/README.md lists every extracted example", async (t) => {
  const dir = join(repoRoot, "test", "fixtures", "background");
  const readme = readFileSync(join(dir, "README.md"), "utf8");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  t.ok(files.length > 0, "fixtures exist");
  for (const file of files) t.ok(readme.includes(`\`${file}\``), `README lists ${file}`);
  for (const [, file] of readme.matchAll(/`([\w.-]+\.yaml)`/g)) t.ok(files.includes(file!), `${file} listed in README exists`);
});

t.test("the README's differential guarantee names the Kubernetes version test/k8s/go.mod builds", async (t) => {
  const built = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)/m.exec(readFileSync(join(repoRoot, "test/k8s/go.mod"), "utf8"))?.[1];
  t.ok(built, "go.mod requires k8s.io/kubernetes");
  t.match(readFileSync(join(repoRoot, "README.md"), "utf8"), `**${built}** (the version \`test/k8s/go.mod\` builds)`);
});
