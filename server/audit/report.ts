import { evaluateNetworkPolicy, type ClusterFacts, type Finding, type LoadedConfig, type ObjectRef } from "../../policies/index.js";

/** An object to check, with where it came from when it came from a file. */
export interface LocatedObject {
  object: unknown;
  source?: string;
  line?: number;
  lineOf?(path: string): number;
}

export interface Location {
  source?: string;
  line?: number;
}

export interface ReportedFinding extends Finding, Location {
  object: ObjectRef;
}

export interface ReportedError extends Location {
  object?: ObjectRef;
  path?: string;
  message: string;
}

/** What `netguard check` and `netguard audit` print, whatever the output format. */
export interface CheckReport {
  findings: ReportedFinding[];
  errors: ReportedError[];
  /** NetworkPolicies evaluated. */
  objects: number;
  /** Objects of other kinds, not evaluated. */
  skipped: number;
}

export function refOf(object: unknown): ObjectRef {
  const o = (object ?? {}) as { kind?: unknown; metadata?: { name?: unknown; generateName?: unknown; namespace?: unknown } };
  const meta = typeof o.metadata === "object" && o.metadata ? o.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? `${meta.generateName}*` : "(unnamed)";
  const ref: ObjectRef = { kind: typeof o.kind === "string" ? o.kind : "(no kind)", name };
  if (typeof meta.namespace === "string") ref.namespace = meta.namespace;
  return ref;
}

export const isNetworkPolicy = (object: unknown): boolean =>
  typeof object === "object" && object !== null && (object as { kind?: unknown }).kind === "NetworkPolicy";

export function checkObjects(items: readonly LocatedObject[], loaded: LoadedConfig, facts: ClusterFacts = {}): CheckReport {
  const report: CheckReport = { findings: [], errors: [], objects: 0, skipped: 0 };
  for (const item of items) {
    if (!isNetworkPolicy(item.object)) {
      report.skipped++;
      continue;
    }
    report.objects++;
    const object = refOf(item.object);
    const where = (path: string): Location => ({ source: item.source, line: item.lineOf?.(path) ?? item.line });
    const result = evaluateNetworkPolicy(item.object, loaded, facts);
    for (const e of result.inputErrors) report.errors.push({ object, path: e.path, message: e.message, ...where(e.path) });
    for (const f of result.ruleFailures) report.errors.push({ object, message: `internal error in rule ${f.rule}: ${f.error}`, ...where("") });
    for (const f of result.findings) report.findings.push({ ...f, object, ...where(f.path) });
  }
  return report;
}

export function countActions(report: CheckReport): { deny: number; warn: number } {
  return {
    deny: report.findings.filter((f) => f.action === "deny").length,
    warn: report.findings.filter((f) => f.action === "warn").length,
  };
}

/** The CLI contract: 2 for any usage/config/parse/input error, 1 for a deny finding, else 0. */
export function exitCodeOf(report: CheckReport): number {
  if (report.errors.length > 0) return 2;
  return countActions(report).deny > 0 ? 1 : 0;
}
