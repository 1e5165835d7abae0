import type { CheckReport, ReportedError, ReportedFinding } from "../../audit/report.js";
import { countActions } from "../../audit/report.js";

export interface TextStyle {
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const ansi = (code: number) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
export const colours: TextStyle = { red: ansi(31), yellow: ansi(33), bold: ansi(1), dim: ansi(2) };
export const plain: TextStyle = { red: (s) => s, yellow: (s) => s, bold: (s) => s, dim: (s) => s };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

function heading(item: ReportedFinding | ReportedError): string {
  const o = item.object;
  const name = o ? `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}` : "";
  const where = item.source ? `${item.source}${item.line ? `:${item.line}` : ""}` : "";
  return [name, where && `(${where})`].filter(Boolean).join(" ");
}

/** " (2 projectcalico.org/v3 NetworkPolicy, 1 v1 ConfigMap)": what was skipped, when known. */
function skippedKinds(report: CheckReport): string {
  const kinds = Object.entries(report.skippedKinds ?? {});
  return kinds.length > 0 ? ` (${kinds.map(([kind, n]) => `${n} ${kind}`).join(", ")})` : "";
}

/** Findings grouped per object, readable in a terminal; colour only when `style` is colours. */
export function formatText(report: CheckReport, style: TextStyle = plain): string {
  const groups = new Map<string, string[]>();
  const add = (key: string, lines: string[]): void => {
    groups.set(key, [...(groups.get(key) ?? []), ...lines]);
  };
  for (const e of report.errors) {
    add(heading({ ...e, line: e.object ? undefined : e.line }), [
      `  ${style.red("error")}  ${e.path ? `${style.bold(e.path)}${e.line ? style.dim(` (line ${e.line})`) : ""}: ` : ""}${e.message}`,
    ]);
  }
  for (const f of report.findings) {
    const tag = f.action === "deny" ? style.red("deny ") : style.yellow("warn ");
    add(heading({ ...f, line: undefined }), [
      `  ${tag}  ${style.bold(f.rule)}  ${f.path}${f.line ? style.dim(` (line ${f.line})`) : ""}`,
      `         ${f.message}`,
      `         ${style.dim("fix:")} ${f.fix}`,
    ]);
  }
  const assumed = assumedPremises(report);
  const body = [...groups].map(([title, lines]) => `${style.bold(title)}\n${lines.join("\n")}\n`).join("\n");
  const { deny, warn } = countActions(report);
  const summary =
    `${checked(report)} checked` +
    `${report.skipped > 0 ? `, ${plural(report.skipped, "other object")} skipped${skippedKinds(report)}` : ""}: ` +
    `${plural(deny, "denial")}, ${plural(warn, "warning")}${report.errors.length > 0 ? `, ${plural(report.errors.length, "error")}` : ""}`;
  return `${body}${body ? "\n" : ""}${assumed}${summary}\n`;
}

const policies = (n: number, kind: string): string => plural(n, kind).replace(/Policys$/, "Policies");

/** "3 NetworkPolicies", or with CNI kinds among them "4 policies (3 NetworkPolicies, 1 CiliumNetworkPolicy)". */
function checked(report: CheckReport): string {
  const cni = Object.entries(report.cniKinds ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (cni.length === 0) return policies(report.objects, "NetworkPolicy");
  const networkPolicies = report.objects - cni.reduce((n, [, count]) => n + count, 0);
  const parts = [...(networkPolicies > 0 ? [policies(networkPolicies, "NetworkPolicy")] : []), ...cni.map(([kind, count]) => policies(count, kind))];
  return `${plural(report.objects, "policy").replace("policys", "policies")} (${parts.join(", ")})`;
}

/** The cluster-state premises the findings took on trust (offline `check`), one line each. */
function assumedPremises(report: CheckReport): string {
  const assumed = new Map<string, string>();
  for (const f of report.findings) for (const p of f.premises ?? []) if (p.status === "assumed") assumed.set(p.id, p.statement);
  return [...assumed].map(([id, statement]) => `assumed, not checked against a cluster: ${id} (${statement})\n`).join("");
}
