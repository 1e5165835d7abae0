import { cniPolicyKindOf, evaluatePolicy, type ClusterFacts, type Finding, type LoadedConfig, type ObjectRef } from "../../policies/index.js";

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
  /** Policies evaluated (NetworkPolicies, Cilium and Calico policies). */
  objects: number;
  /** Objects of other kinds, not evaluated. */
  skipped: number;
  /** The checked objects that are Cilium or Calico policies, by kind (NetworkPolicies are the rest). */
  cniKinds?: Record<string, number>;
  /** The skipped objects by "apiVersion Kind", when they were counted that way. */
  skippedKinds?: Record<string, number>;
}

export function refOf(object: unknown): ObjectRef {
  const o = (object ?? {}) as { kind?: unknown; metadata?: { name?: unknown; generateName?: unknown; namespace?: unknown } };
  const meta = typeof o.metadata === "object" && o.metadata ? o.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? `${meta.generateName}*` : "(unnamed)";
  const ref: ObjectRef = { kind: typeof o.kind === "string" ? o.kind : "(no kind)", name };
  if (cniPolicyKindOf(object)?.startsWith("Calico")) ref.apiVersion = (object as { apiVersion: string }).apiVersion;
  if (typeof meta.namespace === "string") ref.namespace = meta.namespace;
  return ref;
}

const NETWORKING = "networking.k8s.io";
/** Kinds netguard judges under some apiVersion: without one, the object is a policy kubectl would refuse. */
const POLICY_KINDS = new Set(["NetworkPolicy", "GlobalNetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"]);

/** What netguard does with an object: evaluate it (a NetworkPolicy, a Cilium or a Calico policy), refuse it as Kubernetes would, or skip it (another kind or API group). */
export function classify(object: unknown): "evaluate" | "skip" | { error: string } {
  const o = (typeof object === "object" && object !== null ? object : {}) as { apiVersion?: unknown; kind?: unknown };
  if (cniPolicyKindOf(object) !== undefined) return "evaluate";
  if (o.apiVersion === undefined && typeof o.kind === "string" && POLICY_KINDS.has(o.kind)) {
    return { error: `is missing: kubectl refuses an object without apiVersion (a ${o.kind} is ${o.kind === "NetworkPolicy" ? `${NETWORKING}/v1` : "cilium.io/v2 or projectcalico.org/v3"})` };
  }
  if (o.kind !== "NetworkPolicy") return "skip";
  if (o.apiVersion === `${NETWORKING}/v1`) return "evaluate";
  if (typeof o.apiVersion === "string" && o.apiVersion.startsWith(`${NETWORKING}/`)) {
    return { error: `the apiserver serves NetworkPolicy only as ${NETWORKING}/v1, not ${o.apiVersion}` };
  }
  return "skip";
}

const kindKey = (object: unknown): string => {
  const o = (typeof object === "object" && object !== null ? object : {}) as { apiVersion?: unknown; kind?: unknown };
  return `${typeof o.apiVersion === "string" ? o.apiVersion : "(no apiVersion)"} ${typeof o.kind === "string" ? o.kind : "(no kind)"}`;
};

export function checkObjects(items: readonly LocatedObject[], loaded: LoadedConfig, facts: ClusterFacts = {}): CheckReport {
  const report: CheckReport = { findings: [], errors: [], objects: 0, skipped: 0 };
  for (const item of items) {
    const verdict = classify(item.object);
    if (verdict === "skip") {
      report.skipped++;
      const key = kindKey(item.object);
      report.skippedKinds = { ...report.skippedKinds, [key]: (report.skippedKinds?.[key] ?? 0) + 1 };
      continue;
    }
    report.objects++;
    const cni = cniPolicyKindOf(item.object);
    if (cni) report.cniKinds = { ...report.cniKinds, [cni]: (report.cniKinds?.[cni] ?? 0) + 1 };
    const object = refOf(item.object);
    const where = (path: string): Location => ({ source: item.source, line: item.lineOf?.(path) ?? item.line });
    if (verdict !== "evaluate") {
      report.errors.push({ object, path: "apiVersion", message: verdict.error, ...where("apiVersion") });
      continue;
    }
    const result = evaluatePolicy(item.object, loaded, facts);
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
