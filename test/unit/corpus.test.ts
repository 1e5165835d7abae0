/**
 * No false positives on real-world policies: every NetworkPolicy of the public
 * kubernetes-network-policy-recipes collection (read in place from ../shared/corpus/recipes,
 * never copied here) must draw no deny finding and no input error, with the default config
 * and with the multicloud fixture (whose remote ranges the recipes do not name).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { defaultConfig, evaluatePolicy, type LoadedConfig } from "../../policies/index.js";
import { parseObjects } from "../../server/cli/documents.js";
import { sharedPath } from "../helpers/shared.js";
import { fixture } from "./helpers.js";

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/i.test(name) ? [full] : [];
    });
}

let recipesDir = "";
try {
  recipesDir = sharedPath("corpus", "recipes");
} catch (error) {
  t.fail(`the no-false-positive corpus (DESIGN: ../shared/corpus/recipes) must be readable: ${(error as Error).message}`);
}
if (recipesDir) {
  const files = yamlFiles(recipesDir);
  t.ok(files.length >= 10, `found ${files.length} recipe files in ${recipesDir}`);

  const configs: [string, LoadedConfig][] = [
    ["default config", defaultConfig()],
    ["multicloud config", fixture],
  ];
  // Read as `netguard check` (and kubectl) reads them.
  const corpus = files.map((file) => ({ rel: path.relative(recipesDir, file), read: parseObjects(readFileSync(file, "utf8"), file) }));
  const policyCount = corpus.reduce((n, { read }) => n + read.objects.length, 0);
  t.ok(policyCount >= files.length, `${policyCount} policies in ${files.length} files`);

  for (const { rel, read } of corpus) {
    t.test(rel, async (t) => {
      t.same(read.problems, [], `${rel} reads as kubectl reads it`);
      for (const [i, item] of read.objects.entries()) {
        const object = item.object as { kind?: string };
        t.equal(object.kind, "NetworkPolicy", `${rel}#${i} is a NetworkPolicy`);
        for (const [name, loaded] of configs) {
          const result = evaluatePolicy(object, loaded);
          t.same(result.inputErrors, [], `${rel}#${i} (${name}): no input error`);
          t.same(result.ruleFailures, [], `${rel}#${i} (${name}): no rule crashed`);
          t.same(
            result.findings.filter((f) => f.action === "deny"),
            [],
            `${rel}#${i} (${name}): no deny finding`,
          );
        }
      }
    });
  }
}
