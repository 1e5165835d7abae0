import t from "tap";
import { guardrailConfigSchema } from "../../policies/index.js";
import { PATTERN_MEANINGS } from "../../policies/schema-errors.js";
import { ecmaPattern } from "../../policies/validate/custom-resource.js";
import crdSchemas from "../../policies/validate/crd-schemas.generated.json" with { type: "json" };

/** Every `pattern` anywhere in a schema. */
function patternsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(patternsIn);
  if (!node || typeof node !== "object") return [];
  return Object.entries(node).flatMap(([key, value]) => (key === "pattern" && typeof value === "string" ? [value] : patternsIn(value)));
}

t.test("every pattern of the shipped schemas is explained in words", async (t) => {
  const patterns = [...new Set(patternsIn(guardrailConfigSchema))];
  t.ok(patterns.length >= 3, "walked the schema");
  for (const pattern of patterns) t.ok(PATTERN_MEANINGS[pattern], `${pattern} has a meaning`);
  for (const meaning of Object.values(PATTERN_MEANINGS)) t.match(meaning, /^must /, "reads as a reason after the path");
});

t.test("every pattern of the vendored CNI CRDs is explained in words", async (t) => {
  const patterns = [...new Set(patternsIn(crdSchemas))].map(ecmaPattern).filter((p) => !p.includes("EchoReply"));
  t.ok(patterns.length >= 5, "walked the schemas");
  for (const pattern of patterns) t.ok(PATTERN_MEANINGS[pattern], `${pattern} has a meaning`);
});
