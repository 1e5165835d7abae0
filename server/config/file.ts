import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { loadConfig, type ConfigProblem, type ConfigResult } from "../../policies/index.js";

/** Parses a GuardrailConfig from YAML or JSON text (JSON is YAML). Problems carry the source name. */
export function parseConfigText(text: string, source: string): ConfigResult {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e): ConfigProblem => ({ path: `${source}:${(e.linePos?.[0].line ?? 0) || "?"}`, message: yamlMessage(e.message) })),
    };
  }
  const result = loadConfig(doc.toJS());
  return result.ok ? result : { ok: false, problems: result.problems.map((p) => ({ path: `${source}: ${p.path}`, message: p.message })) };
}

export async function loadConfigFile(path: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return { ok: false, problems: [{ path, message: `cannot read config: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] };
  }
  return parseConfigText(text, path);
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  ${p.path}: ${p.message}`).join("\n");
}

/** The first line of a `yaml` parse error, without the position (reported separately). */
export function yamlMessage(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}
