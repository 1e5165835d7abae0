/**
 * GuardrailException (netguard.dev/v1alpha1, cluster-scoped): a narrow, owned, time-boxed waiver of rule denials.
 * Validated here the same way for the webhook, the audit scan and `netguard check --exceptions`.
 */
import { Ajv } from "ajv";
import schema from "./guardrail-exception.schema.json" with { type: "json" };
import { catalog, isRuleId } from "../config/catalog.js";
import type { ConfigProblem } from "../config/types.js";
import { fieldPath } from "../path.js";
import { describeSchemaErrors, structurallyValid } from "../schema-errors.js";
import type { GuardrailException } from "../types.js";
import { dns1123LabelErrors, dns1123SubdomainErrors } from "../validate/names.js";
import { labelSelectorErrors } from "../validate/network-policy.js";

export { schema as guardrailExceptionSchema };

export const EXCEPTION_API_VERSION = "netguard.dev/v1alpha1";
export const EXCEPTION_KIND = "GuardrailException";
export type { GuardrailException };

/** How expiresAt is judged against now; without them (objects already stored) only its syntax is checked. */
export interface ExpiryRules {
  /** The furthest ahead expiresAt may lie (config exceptions.maxDays). */
  maxDays: number;
  now: Date;
  /** An expiry already past is no error (`netguard check`: it is reported as expired and waives nothing). */
  allowPast?: boolean;
  /**
   * The stored object on UPDATE: an unchanged expiresAt is not judged again against now and maxDays, so that an
   * exception can always be relabelled, annotated or have its finalizers removed.
   */
  old?: GuardrailException;
}

const validate = new Ajv({ allErrors: true, strict: true, verbose: true }).compile(schema);
const DAY_MS = 86_400_000;
// RFC 3339 as Kubernetes' metav1.Time reads it: a date, a time, optional fractions, Z or an offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The expiry as a time, or undefined when it is not an RFC 3339 time. */
export function expiryOf(exception: Pick<GuardrailException, "spec">): Date | undefined {
  const text = exception.spec.expiresAt;
  if (!RFC3339.test(text)) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

export const isExpired = (exception: GuardrailException, now: Date): boolean => (expiryOf(exception)?.getTime() ?? 0) <= now.getTime();

function checkRules(rules: readonly string[]): ConfigProblem[] {
  const seen = new Set<string>();
  return rules.flatMap((id, i): ConfigProblem[] => {
    const path = fieldPath(["spec", "rules", i]);
    if (seen.has(id)) return [{ path, message: `${id} is listed twice` }];
    seen.add(id);
    if (!isRuleId(id)) return [{ path, message: `unknown rule "${id}"; rules are: ${Object.keys(catalog).join(", ")}` }];
    if (catalog[id].certainty === "likely") return [{ path, message: `${id} is a likely rule: it only ever warns, and an exception waives denials` }];
    return [];
  });
}

function checkMatch(match: GuardrailException["spec"]["match"]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (match.namespaces === undefined && match.namespaceSelector === undefined) {
    problems.push({ path: "spec.match", message: "must name namespaces or give a namespaceSelector (or both): an exception is never cluster-wide" });
  }
  match.namespaces?.forEach((name, i) => {
    for (const e of dns1123LabelErrors(name)) problems.push({ path: fieldPath(["spec", "match", "namespaces", i]), message: `"${name}" is not a namespace name: ${e}` });
  });
  match.policies?.forEach((name, i) => {
    for (const e of dns1123SubdomainErrors(name)) problems.push({ path: fieldPath(["spec", "match", "policies", i]), message: `"${name}" is not a policy name: ${e}` });
  });
  if (match.namespaceSelector) problems.push(...labelSelectorErrors(match.namespaceSelector, ["spec", "match", "namespaceSelector"]));
  return problems;
}

function checkExpiry(exception: GuardrailException, rules: ExpiryRules | undefined): ConfigProblem[] {
  const path = "spec.expiresAt";
  const expiry = expiryOf(exception);
  if (!expiry) return [{ path, message: `"${exception.spec.expiresAt}" is not an RFC 3339 time such as 2027-01-31T00:00:00Z` }];
  if (!rules || (rules.old && rules.old.spec.expiresAt === exception.spec.expiresAt)) return [];
  const latest = new Date(rules.now.getTime() + rules.maxDays * DAY_MS);
  if (expiry.getTime() <= rules.now.getTime()) return rules.allowPast ? [] : [{ path, message: `${exception.spec.expiresAt} has already passed: an exception must expire in the future` }];
  if (expiry.getTime() > latest.getTime()) {
    return [{ path, message: `${exception.spec.expiresAt} is more than ${rules.maxDays} days ahead (exceptions.maxDays); the latest allowed now is ${latest.toISOString()}` }];
  }
  return [];
}

/** Checks one object claimed to be a GuardrailException; every problem with its field path. Never throws. */
export function validateException(object: unknown, rules?: ExpiryRules): { exception?: GuardrailException; problems: ConfigProblem[] } {
  const ok = validate(object);
  const valid = structurallyValid(validate.errors);
  const problems: ConfigProblem[] = describeSchemaErrors(validate.errors);
  if (!ok && !valid(["spec"])) return { problems };
  const candidate = object as GuardrailException;
  if (valid(["metadata", "name"])) {
    for (const e of dns1123SubdomainErrors(candidate.metadata.name)) problems.push({ path: "metadata.name", message: `"${candidate.metadata.name}" ${e}` });
  }
  if (valid(["spec", "rules"])) problems.push(...checkRules(candidate.spec.rules));
  if (valid(["spec", "match"])) problems.push(...checkMatch(candidate.spec.match));
  if (valid(["spec", "expiresAt"])) problems.push(...checkExpiry(candidate, rules));
  return problems.length > 0 ? { problems } : { exception: candidate, problems };
}

export interface InvalidException {
  /** Position in the list read, and the name when it has one. */
  index: number;
  name?: string;
  problems: ConfigProblem[];
}

/** The valid exceptions of a list of stored or written objects, and the problems of the others (which waive nothing). */
export function readExceptions(objects: readonly unknown[], rules?: ExpiryRules): { items: GuardrailException[]; invalid: InvalidException[] } {
  const items: GuardrailException[] = [];
  const invalid: InvalidException[] = [];
  objects.forEach((object, index) => {
    const { exception, problems } = validateException(object, rules);
    if (exception) items.push(exception);
    else {
      const name = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
      invalid.push({ index, ...(typeof name === "string" ? { name } : {}), problems });
    }
  });
  return { items, invalid };
}
