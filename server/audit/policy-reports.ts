import type { ObjectRef } from "../../policies/index.js";
import { canonicalJson, EXCEPTION_API_VERSION, EXCEPTION_KIND, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../policies/index.js";
import type { CheckReport, ReportedFinding } from "./report.js";

export const REPORT_GROUP = "wgpolicyk8s.io";
export const REPORT_VERSION = "v1alpha2";
export const REPORT_NAME = "netguard";

export interface PolicyReportResult {
  policy: string;
  rule: string;
  result: "fail" | "warn" | "error" | "skip";
  severity: "high" | "medium";
  message: string;
  source: string;
  scored: boolean;
  timestamp: { seconds: number; nanos: number };
  resources: { apiVersion: string; kind: string; name: string; namespace?: string; uid?: string }[];
  properties: Record<string, string>;
}

export interface PolicyReport {
  apiVersion: string;
  kind: "PolicyReport" | "ClusterPolicyReport";
  metadata: { name: string; namespace?: string; labels: Record<string, string>; resourceVersion?: string };
  scope?: { apiVersion: string; kind: string; name: string };
  results: PolicyReportResult[];
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
}

const API_VERSIONS: Record<string, string> = { NetworkPolicy: "networking.k8s.io/v1", CiliumNetworkPolicy: "cilium.io/v2", CiliumClusterwideNetworkPolicy: "cilium.io/v2", Namespace: "v1", GuardrailException: EXCEPTION_API_VERSION, GuardrailConfig: EXCEPTION_API_VERSION };

/** A waived denial is skipped (the exception named in the message); an exception that waives nothing fails. */
function resultKind(f: ReportedFinding): PolicyReportResult["result"] {
  if (f.waivedBy) return "skip";
  return f.action === "deny" || f.object.kind === EXCEPTION_KIND ? "fail" : "warn";
}

function resultOf(f: ReportedFinding, uid: string | undefined, now: number): PolicyReportResult {
  const ref: ObjectRef = f.object;
  return {
    policy: REPORT_NAME,
    rule: f.rule,
    result: resultKind(f),
    severity: f.action === "deny" || f.waivedBy ? "high" : "medium",
    message: `${f.path}: ${f.message}`,
    source: REPORT_NAME,
    scored: true,
    timestamp: { seconds: Math.floor(now / 1000), nanos: 0 },
    resources: [{ apiVersion: ref.apiVersion ?? API_VERSIONS[ref.kind] ?? "v1", kind: ref.kind, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), ...(uid ? { uid } : {}) }],
    properties: { path: f.path, fix: f.fix, certainty: f.certainty, ...(f.waivedBy ? { waivedBy: f.waivedBy } : {}) },
  };
}

function report(kind: PolicyReport["kind"], namespace: string | undefined, results: PolicyReportResult[]): PolicyReport {
  return {
    apiVersion: `${REPORT_GROUP}/${REPORT_VERSION}`,
    kind,
    metadata: { name: REPORT_NAME, ...(namespace ? { namespace } : {}), labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
    results,
    summary: {
      pass: 0,
      fail: results.filter((r) => r.result === "fail").length,
      warn: results.filter((r) => r.result === "warn").length,
      error: results.filter((r) => r.result === "error").length,
      skip: results.filter((r) => r.result === "skip").length,
    },
  };
}

/**
 * One PolicyReport per namespace with findings, and one ClusterPolicyReport for cluster-scoped
 * objects (Namespaces). Namespaces without findings get no report: fixed findings disappear.
 */
export function buildPolicyReports(audit: CheckReport, uidOf: (ref: ObjectRef) => string | undefined, now = Date.now()): { namespaced: Map<string, PolicyReport>; cluster: PolicyReport } {
  const byNamespace = new Map<string, PolicyReportResult[]>();
  const clusterResults: PolicyReportResult[] = [];
  for (const f of audit.findings) {
    const result = resultOf(f, uidOf(f.object), now);
    if (f.object.namespace) byNamespace.set(f.object.namespace, [...(byNamespace.get(f.object.namespace) ?? []), result]);
    else clusterResults.push(result);
  }
  const namespaced = new Map([...byNamespace].map(([ns, results]) => [ns, report("PolicyReport", ns, results)]));
  return { namespaced, cluster: report("ClusterPolicyReport", undefined, clusterResults) };
}

/**
 * Reports compared without timestamps and whatever the key order, so an unchanged audit writes
 * nothing. A report without netguard's label (say, edited by hand) is rewritten.
 */
export function sameResults(a: PolicyReport | undefined, b: PolicyReport): boolean {
  if (a === undefined || a.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return false;
  const strip = (r: PolicyReport) => canonicalJson((r.results ?? []).map(({ timestamp: _t, ...rest }) => rest));
  return strip(a) === strip(b) && canonicalJson(a.summary ?? {}) === canonicalJson(b.summary);
}
