import type { CheckReport } from "../../audit/report.js";
import { countActions } from "../../audit/report.js";

/** The JSON contract of DESIGN.md section 6, with the premises behind each provable finding and the exception that waived a denial. */
export function formatJson(report: CheckReport): string {
  const findings = report.findings.map((f) => ({
    rule: f.rule,
    action: f.action,
    object: { kind: f.object.kind, namespace: f.object.namespace ?? null, name: f.object.name },
    path: f.path,
    message: f.message,
    fix: f.fix,
    ...(f.premises ? { premises: f.premises } : {}),
    ...(f.waivedBy ? { waivedBy: f.waivedBy } : {}),
  }));
  return `${JSON.stringify({ findings, summary: { objects: report.objects, ...countActions(report) } }, null, 2)}\n`;
}
