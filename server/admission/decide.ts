import type { Finding } from "../../policies/index.js";
import type { AdmissionResponse } from "./review.js";

export type Mode = "enforce" | "audit";

/** What the checks said about one object: findings, plus notices that are not findings (input errors, rule failures). */
export interface Verdict {
  findings: Finding[];
  notices: string[];
}

/** Kubernetes asks webhooks to keep each warning under 120 characters. */
const WARNING_LIMIT = 119;

/** A warning cut to the apiserver's limit as it stands (for texts not written by netguard's rules). */
export const clipWarning = (text: string): string => (text.length > WARNING_LIMIT ? `${text.slice(0, WARNING_LIMIT - 3)}...` : text);

/** Shortens at a word boundary when one is near, marking the cut with "...". */
function truncate(text: string, limit = WARNING_LIMIT): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= limit) return flat;
  const room = limit - 3;
  const space = flat.lastIndexOf(" ", room);
  const cut = space > room - 20 ? space : room;
  return `${flat.slice(0, cut).replace(/[\s,;:.]+$/, "")}...`;
}

// The exception's name comes first: a warning is cut to the apiserver's limit, and a waiver must stay visible.
const summary = (f: Finding): string => `${f.rule} ${f.path}: ${f.waivedBy ? `waived by GuardrailException ${f.waivedBy}: ` : ""}${f.message}`;

// Audit annotation keys are prefixed "<webhook name>/" by the apiserver, so each must be a qualified name on its own.
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function annotationKey(rule: string): string {
  if (QUALIFIED_NAME.test(rule)) return rule;
  const cleaned = rule.replace(/[^-A-Za-z0-9_.]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 63).replace(/[^A-Za-z0-9]+$/, "");
  return cleaned || "finding";
}

function denialMessage(subject: string, denials: readonly Finding[]): string {
  const count = denials.length === 1 ? "1 finding" : `${denials.length} findings`;
  const items = denials.map((f, i) => `(${i + 1}) ${f.rule} at ${f.path}: ${f.message}\n    fix: ${f.fix}`);
  return `netguard denied this ${subject} (${count}):\n${items.join("\n")}`;
}

function auditAnnotations(denials: readonly Finding[]): Record<string, string> {
  const byRule = new Map<string, string[]>();
  for (const f of denials) {
    const key = annotationKey(f.rule);
    byRule.set(key, [...(byRule.get(key) ?? []), `${f.path}: ${f.message}`]);
  }
  return Object.fromEntries([...byRule].map(([key, entries]) => [key, entries.join(" | ")]));
}

/**
 * Turns a verdict into an AdmissionResponse. enforce: any deny finding denies with 403 and every deny
 * finding in the message. audit: nothing is denied; would-be denials become warnings and audit annotations.
 */
export function decide(uid: string, mode: Mode, subject: string, verdict: Verdict): AdmissionResponse {
  const denials = verdict.findings.filter((f) => f.action === "deny");
  const warns = verdict.findings.filter((f) => f.action === "warn");
  const warnings = [
    ...(mode === "audit" ? denials.map((f) => `audit, would deny: ${summary(f)}`) : []),
    ...warns.map(summary),
    ...verdict.notices,
  ].map((w) => truncate(w));
  const response: AdmissionResponse = { uid, allowed: mode === "audit" || denials.length === 0 };
  if (!response.allowed) response.status = { code: 403, reason: "Forbidden", message: denialMessage(subject, denials) };
  if (warnings.length > 0) response.warnings = warnings;
  if (mode === "audit" && denials.length > 0) response.auditAnnotations = auditAnnotations(denials);
  return response;
}

/** The decision label for logs and metrics. */
export function outcome(mode: Mode, response: AdmissionResponse, verdict: Verdict): "allowed" | "warned" | "denied" | "audited" {
  if (!response.allowed) return "denied";
  if (mode === "audit" && verdict.findings.some((f) => f.action === "deny")) return "audited";
  return response.warnings ? "warned" : "allowed";
}
