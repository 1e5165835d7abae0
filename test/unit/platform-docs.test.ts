/**
 * docs/platform-teams.md is checked like the rule pages: its overrides, namespaces and exception run through the
 * engine with the shared example config, and every ```text finding NAMESPACE TIME block is the finding the engine
 * gives the NAT-hidden example policy in that namespace at that time, word for word.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { evaluatePolicy, loadConfig, namespaceLabelsOf, validateException, type GuardrailException, type Namespace } from "../../policies/index.js";
import { repoRoot } from "../helpers/paths.js";
import { fencedBlocks, parseManifest, parseManifests, parseOne, parseQuotedFinding } from "./markdown.js";

const page = readFileSync(join(repoRoot, "docs/platform-teams.md"), "utf8");
const blocks = fencedBlocks(page);
const only = (info: string) => {
  const found = blocks.filter((b) => b.info === info);
  if (found.length !== 1) throw new Error(`docs/platform-teams.md: expected one \`\`\`${info} block, found ${found.length}`);
  return found[0]!;
};
const examples = join(repoRoot, "docs/examples");

t.test("the exception on the page is docs/examples/guardrail-exception.yaml, and valid", async (t) => {
  const block = only("yaml exception");
  t.equal(block.body, readFileSync(join(examples, "guardrail-exception.yaml"), "utf8"));
  t.same(validateException(parseManifest(block.body, "exception"), { maxDays: 90, now: new Date("2027-01-01T00:00:00Z") }).problems, []);
});

t.test("every quoted finding is what the engine gives, in that namespace at that time", async (t) => {
  const shared = parseOne(readFileSync(join(examples, "multicloud-config.yaml"), "utf8"), "multicloud-config.yaml") as Record<string, unknown>;
  const loaded = loadConfig({ ...shared, ...(parseOne(only("yaml overrides").body, "overrides") as Record<string, unknown>) });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const namespaces = parseManifests(only("yaml namespaces").body, "namespaces") as Namespace[];
  const exception = parseManifest(only("yaml exception").body, "exception") as GuardrailException;
  const policy = parseManifest(readFileSync(join(examples, "nat-hidden-policy.yaml"), "utf8"), "policy") as { metadata: Record<string, unknown> };
  const quoted = blocks.filter((b) => b.info.startsWith("text finding "));
  t.equal(quoted.length, 4, "sandbox, prod, waived, expired");
  for (const block of quoted) {
    const [, , namespace, time] = block.info.split(" ");
    const q = parseQuotedFinding(block);
    const labels = namespaceLabelsOf([...namespaces, { metadata: { name: "payments", labels: { team: "payments" } } }]);
    const result = evaluatePolicy({ ...policy, metadata: { ...policy.metadata, namespace } }, loaded.loaded, {
      origin: "offline",
      namespaceLabels: labels,
      exceptions: { items: [exception], now: new Date(time!) },
    });
    const found = result.findings.find((f) => f.rule === q.rule && f.path === q.path);
    t.ok(found, `line ${block.line}: a ${q.rule} finding at ${q.path}`);
    t.equal(found?.action, q.action, `line ${block.line}: action`);
    t.equal(found?.message, q.message, `line ${block.line}: message`);
  }
});
