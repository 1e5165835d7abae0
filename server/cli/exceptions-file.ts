import { EXCEPTION_KIND, expiredExceptionFindings, readExceptions, type GuardrailException, type LoadedConfig } from "../../policies/index.js";
import type { ReportedError, ReportedFinding } from "../audit/report.js";
import { expandPaths, readObjects } from "./documents.js";

export interface ExceptionsRead {
  items: GuardrailException[];
  /** Findings on the exceptions themselves (expired ones), located in their files. */
  findings: ReportedFinding[];
  /** Anything the cluster would refuse, or that is not a GuardrailException: exit 2. */
  errors: ReportedError[];
}

/**
 * `check --exceptions PATH`: GuardrailExceptions read as kubectl reads manifests and judged as the webhook judges a
 * write of them now (maxDays from today), except that one already expired is no error: it is reported, and waives nothing.
 */
export async function readExceptionFiles(paths: readonly string[], loaded: LoadedConfig, now: Date): Promise<ExceptionsRead> {
  const read: ExceptionsRead = { items: [], findings: [], errors: [] };
  const { files, problems } = await expandPaths(paths);
  read.errors.push(...problems);
  for (const file of files) {
    const { objects, problems: fileProblems } = await readObjects(file);
    read.errors.push(...fileProblems);
    for (const source of objects) {
      const kind = (source.object as { kind?: unknown }).kind;
      if (kind !== EXCEPTION_KIND) {
        read.errors.push({ source: source.source, line: source.line, message: `--exceptions takes GuardrailException objects only, not ${typeof kind === "string" ? kind : "an object without a kind"}` });
        continue;
      }
      const { items, invalid } = readExceptions([source.object], { maxDays: loaded.config.exceptions.maxDays, now, allowPast: true });
      const name = (source.object as { metadata?: { name?: unknown } }).metadata?.name;
      const object = { kind: EXCEPTION_KIND, name: typeof name === "string" ? name : "(unnamed)" };
      for (const p of invalid.flatMap((bad) => bad.problems)) {
        read.errors.push({ object, path: p.path, message: p.message, source: source.source, line: source.lineOf(p.path) });
      }
      read.items.push(...items);
      for (const { finding } of expiredExceptionFindings(items, now)) {
        read.findings.push({ ...finding, object, source: source.source, line: source.lineOf(finding.path) });
      }
    }
  }
  return read;
}
