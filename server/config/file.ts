import { readFile } from "node:fs/promises";
import { loadConfig, parsePath, type ConfigProblem, type ConfigResult } from "../../policies/index.js";
import { readYamlDocument } from "./yaml-document.js";

/**
 * Parses a GuardrailConfig from YAML or JSON text (JSON is YAML). Never throws: every problem,
 * of the YAML or of the config, carries its field path and its line in `text`.
 */
export function parseConfigText(text: string): ConfigResult {
  try {
    return parse(text);
  } catch (error) {
    // Not expected: the reader and the checks never throw. A config must never crash its reader all the same.
    return { ok: false, problems: [{ path: "", message: `cannot be read: ${error instanceof Error ? error.message : String(error)}` }] };
  }
}

function parse(text: string): ConfigResult {
  const read = readYamlDocument(text);
  if (read.problems.length > 0) return { ok: false, problems: read.problems };
  if (read.value === null || read.value === undefined) {
    return { ok: false, problems: [{ path: "", line: 1, message: "is empty: expected a GuardrailConfig (apiVersion, kind, cluster, ...)" }] };
  }
  const result = loadConfig(read.value);
  if (result.ok) return result;
  const located = result.problems.map((p) => ({ ...p, line: read.lineOf(p.path === "(document)" ? [] : parsePath(p.path)) }));
  return { ok: false, problems: located.sort((a, b) => a.line - b.line) };
}

export async function loadConfigFile(path: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return { ok: false, problems: [{ path: "", message: `cannot read config: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] };
  }
  return parseConfigText(text);
}

/** One problem as one line: `SOURCE:LINE: PATH: MESSAGE` (the parts that are known). */
export function formatProblem(source: string, p: ConfigProblem): string {
  return `${source}${p.line ? `:${p.line}` : ""}: ${p.path ? `${p.path}: ` : ""}${p.message}`;
}

export function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  ${formatProblem(source, p)}`).join("\n");
}

export { yamlMessage } from "./yaml-document.js";
