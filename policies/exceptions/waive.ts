/** How GuardrailExceptions change findings: the same step for the webhook, the audit scan and `netguard check`. */
import { matchesLabels } from "../selectors.js";
import type { ExceptionFacts, Finding, GuardrailException } from "../types.js";
import { isExpired, type InvalidException } from "./exception.js";

/** Where the judged policy lives. `labels` undefined: the namespace's labels are not known. */
export interface PolicyPlace {
  namespace?: string;
  name?: string;
  labels?: Readonly<Record<string, string>>;
}

/** The audit-only finding on an exception whose expiresAt has passed. */
export const EXPIRED_EXCEPTION = "expired-exception";
/** The audit-only finding on a stored exception netguard cannot read (written past the CRD's schema): it waives nothing. */
export const INVALID_EXCEPTION = "invalid-exception";

/** Every field the exception gives must match; a namespaceSelector against unknown labels cannot be told. */
export function exceptionMatches(exception: GuardrailException, place: PolicyPlace): "yes" | "no" | "unknown" {
  const { namespaces, policies, namespaceSelector } = exception.spec.match;
  if (namespaces && !(place.namespace !== undefined && namespaces.includes(place.namespace))) return "no";
  if (policies && !(place.name !== undefined && policies.includes(place.name))) return "no";
  if (namespaceSelector) {
    if (!place.labels) return "unknown";
    if (!matchesLabels(namespaceSelector, place.labels)) return "no";
  }
  return "yes";
}

function waived(finding: Finding, exception: GuardrailException): Finding {
  const { reason, owner, expiresAt } = exception.spec;
  const name = exception.metadata.name;
  return { ...finding, action: "warn", waivedBy: name, message: `${finding.message} Waived by GuardrailException ${name} until ${expiresAt} (owner ${owner}: ${reason}).` };
}

/**
 * Each denial that a matching, unexpired exception names becomes a warning that names it (the first by name).
 * Expired exceptions waive nothing; a denial they would have waived says so, and so does one that an exception
 * might waive if the namespace's labels were known.
 */
export function applyExceptions(findings: readonly Finding[], place: PolicyPlace, facts: ExceptionFacts): Finding[] {
  const byName = [...facts.items].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  return findings.map((finding) => {
    if (finding.action !== "deny") return finding;
    const notes: string[] = [];
    for (const exception of byName) {
      if (!exception.spec.rules.includes(finding.rule as never)) continue;
      const match = exceptionMatches(exception, place);
      if (match === "no") continue;
      const name = exception.metadata.name;
      if (isExpired(exception, facts.now)) {
        if (match === "yes") notes.push(`GuardrailException ${name} expired at ${exception.spec.expiresAt} and waives nothing.`);
      } else if (match === "yes") {
        return waived(finding, exception);
      } else {
        notes.push(`GuardrailException ${name} would waive this if namespace ${place.namespace} matches its namespaceSelector, but its labels are not known yet.`);
      }
    }
    return notes.length > 0 ? { ...finding, message: `${finding.message} ${notes.join(" ")}` } : finding;
  });
}

/** One finding per exception whose expiresAt has passed, with its name: it waives nothing and should be renewed or deleted. */
export function expiredExceptionFindings(items: readonly GuardrailException[], now: Date): { name: string; finding: Finding }[] {
  return items
    .filter((exception) => isExpired(exception, now))
    .map((exception) => ({
      name: exception.metadata.name,
      finding: {
        rule: EXPIRED_EXCEPTION,
        action: "warn",
        certainty: "provable",
        path: "spec.expiresAt",
        message: `GuardrailException ${exception.metadata.name} expired at ${exception.spec.expiresAt}: it waives nothing, so the denials of ${exception.spec.rules.join(", ")} it covered apply again.`,
        fix: `Fix the policies it covered, then delete it (kubectl delete guardrailexception ${exception.metadata.name}); or, if the fix is still under way, have a privileged user set a new expiresAt.`,
      },
    }));
}

/** One finding per stored exception netguard would refuse, with its name (or its position in the list). */
export function invalidExceptionFindings(invalid: readonly InvalidException[]): { name: string; finding: Finding }[] {
  return invalid.map((bad) => {
    const name = bad.name ?? `#${bad.index}`;
    return {
      name,
      finding: {
        rule: INVALID_EXCEPTION,
        action: "warn",
        certainty: "provable",
        path: bad.problems[0]?.path ?? "",
        message: `GuardrailException ${name} is invalid and waives nothing: ${bad.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}.`,
        fix: "Correct it (netguard's webhook refuses such a write) or delete it.",
      },
    };
  });
}
