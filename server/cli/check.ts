import { Command } from "./args.js";
import { defaultConfig, namespaceLabelsOf, type LoadedConfig, type Namespace } from "../../policies/index.js";
import { formatProblems, loadConfigFile } from "../config/file.js";
import { expandPaths, readObjects, type SourceObject } from "./documents.js";
import { printReport, OUTPUT_FORMATS, type OutputFormat } from "./output/print.js";
import { checkObjects, exitCodeOf } from "../audit/report.js";
import { readExceptionFiles } from "./exceptions-file.js";

const USAGE = `usage: netguard check [--config FILE] [--exceptions PATH]... [--output text|json|sarif] PATH...

Checks NetworkPolicies, Cilium policies (cilium.io/v2 CiliumNetworkPolicy,
CiliumClusterwideNetworkPolicy) and Calico policies (projectcalico.org/v3
NetworkPolicy, GlobalNetworkPolicy) in files or directories (recursively;
YAML or JSON, multi-document, kind: List; "-" reads standard input) with the
same rules the admission webhook runs. Namespace objects among them give their labels
(for ruleOverrides and exception selectors); other kinds are skipped.

options:
  -c, --config FILE      GuardrailConfig (default: the built-in single-cluster config)
  -e, --exceptions PATH  GuardrailExceptions (files or directories), honoured as the
                         webhook honours them; expired ones waive nothing and are reported
  -o, --output FMT       text, json or sarif (default text)

Exit status: 0 no denial, 1 at least one finding whose action is deny,
2 usage, config, parse or input error.
`;

/** Loads --config, or the single-cluster default; prints problems and returns undefined on error. */
export async function configFromFlag(path: string | undefined): Promise<LoadedConfig | undefined> {
  if (!path) return defaultConfig();
  const result = await loadConfigFile(path);
  if (result.ok) return result.loaded;
  process.stderr.write(`netguard: invalid config ${path}:\n${formatProblems(path, result.problems)}\n`);
  return undefined;
}

export function parseOutput(value: string | undefined): OutputFormat | undefined {
  const format = value ?? "text";
  return (OUTPUT_FORMATS as readonly string[]).includes(format) ? (format as OutputFormat) : undefined;
}

const command = new Command("check", USAGE);

const isNamespace = (o: unknown): o is Namespace => (o as { apiVersion?: unknown }).apiVersion === "v1" && (o as { kind?: unknown }).kind === "Namespace";

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parse({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      exceptions: { type: "string", short: "e", multiple: true },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const output = parseOutput(values.output);
  if (!output) return command.usageError(`--output must be one of ${OUTPUT_FORMATS.join(", ")}`);
  if (positionals.length === 0) return command.usageError("no PATH given");
  const loaded = await configFromFlag(values.config);
  if (!loaded) return 2;
  for (const note of loaded.notes) process.stderr.write(`netguard: note: ${note.path}: ${note.message}\n`);

  const { files, problems } = await expandPaths(positionals);
  const objects: SourceObject[] = [];
  for (const file of files) {
    const read = await readObjects(file);
    objects.push(...read.objects);
    problems.push(...read.problems);
  }
  const now = new Date();
  const exceptions = await readExceptionFiles(values.exceptions ?? [], loaded, now);
  const namespaces = objects.map((o) => o.object).filter(isNamespace);
  // Offline: no cluster to establish cluster-state premises from, so they are assumed and the output says so.
  const report = checkObjects(objects, loaded, {
    origin: "offline",
    namespaceLabels: namespaceLabelsOf(namespaces),
    exceptions: { items: exceptions.items, now },
  });
  report.errors.unshift(...exceptions.errors, ...problems.map((p) => ({ source: p.source, line: p.line, message: p.message })));
  report.findings.push(...exceptions.findings);
  printReport(report, output);
  return exitCodeOf(report);
}
