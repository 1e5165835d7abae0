import type { ErrorObject } from "ajv";
import { fieldPath, pointerSegments, type PathSegment } from "./path.js";

export interface SchemaProblem {
  path: string;
  message: string;
}

/**
 * What each `pattern` of the shipped schemas means, in words. A pattern missing here would reach
 * users as a regular expression (test/unit/schema-errors.test.ts keeps this list complete).
 */
export const PATTERN_MEANINGS: Readonly<Record<string, string>> = {
  "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$":
    "must be a lowercase RFC 1123 label: a-z, 0-9 and '-', starting and ending with an alphanumeric, at most 63 characters",
  "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$":
    "must be a lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '.', starting and ending with an alphanumeric, at most 253 characters",
  "^[^=]+=[^=]*$": "must be key=value, with exactly one '='",
  // The vendored Cilium and Calico CRDs' patterns (after policies/validate/custom-resource.ts's RE2-to-ECMAScript step).
  "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$": "must be a lowercase DNS subdomain: a-z, 0-9, '-' and '.', starting and ending with an alphanumeric",
  "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$": "must be a label value: alphanumerics, '-', '_' and '.', starting and ending with an alphanumeric",
  "^([-a-zA-Z0-9_]+[.]?)+$": "must be a DNS name: letters, digits, '-' and '_', separated by '.'",
  "^([-a-zA-Z0-9_*]+[.]?)+$": "must be a DNS name pattern: letters, digits, '-', '_' and '*', separated by '.'",
  "^(\\*?\\*\\.)?([-a-zA-Z0-9_]+\\.?)+$": "must be a DNS name, optionally starting with '*.' or '**.'",
  "^(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})|([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$":
    "must be a port number (0 to 65535) or a port name (letters, digits and single '-', with a letter)",
  "^\\P{C}*$": "must not contain control or unassigned characters",
  "^.*": "must be a string",
};
/** Patterns whose meaning is a list too long to print: the message names what the list is. */
const LONG_PATTERNS: readonly [RegExp, string][] = [[/^\^\(\[0-9\]\|.*EchoReply\|/, "must be an ICMP type: a number from 0 to 255 or a type name such as EchoRequest"]];

const LIST_HINT = "a list (each entry starts with '- ')";

/** JSON Schema type names as a YAML author knows them. */
export const TYPE_NAMES: Readonly<Record<string, string>> = {
  array: LIST_HINT,
  object: "a map (key: value entries)",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  null: "null",
};

/** What a value is, in the same words: "a map", "a decimal number", "null". */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal number";
  if (typeof value === "boolean") return "true or false";
  return `a ${typeof value}`;
}

const plural = (n: unknown, word: string): string => `${String(n)} ${word}${n === 1 ? "" : "s"}`;

function typeMessage(e: ErrorObject): string {
  const expected = String(e.params.type)
    .split(",")
    .map((t) => TYPE_NAMES[t] ?? t)
    .join(" or ");
  return `must be ${expected}, not ${kindOf(e.data)}`;
}

/** The reason for one ajv error, as a sentence fragment after "path: ". */
function reasonOf(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties":
      return "unknown field";
    case "required":
      return "required field is missing";
    case "enum":
      return `must be one of: ${(p.allowedValues as unknown[]).map(String).join(", ")}`;
    case "const":
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case "type":
      return typeMessage(e);
    case "pattern":
      return PATTERN_MEANINGS[String(p.pattern)] ?? LONG_PATTERNS.find(([re]) => re.test(String(p.pattern)))?.[1] ?? `must match the regular expression ${String(p.pattern)}`;
    case "minLength":
      return p.limit === 1 ? "must not be empty" : `must be at least ${plural(p.limit, "character")} long`;
    case "maxLength":
      return `must be at most ${plural(p.limit, "character")} long`;
    case "minItems":
      return `must have at least ${plural(p.limit, "item")}`;
    case "maxItems":
      return `must have at most ${plural(p.limit, "item")}`;
    case "minimum":
      return `must be at least ${String(p.limit)}`;
    case "maximum":
      return `must be at most ${String(p.limit)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** The field an ajv error is about: the unknown or missing field itself, not the object holding it. */
export function errorSegments(e: ErrorObject): PathSegment[] {
  const base = pointerSegments(e.instancePath);
  if (e.keyword === "additionalProperties") return [...base, String(e.params.additionalProperty)];
  if (e.keyword === "required") return [...base, String(e.params.missingProperty)];
  return base;
}

/**
 * A predicate true for the fields the schema found nothing wrong with: no error at the field or
 * at any field containing it. Checks beyond the schema run on those fields only.
 */
export function structurallyValid(errors: readonly ErrorObject[] | null | undefined): (path: readonly PathSegment[]) => boolean {
  const bad = (errors ?? []).map(errorSegments);
  return (path) => !bad.some((b) => b.length <= path.length && b.every((s, i) => s === path[i]));
}

/**
 * A field with a `pattern` spells out its length limits in the pattern's meaning; a separate
 * length error at the same field would only repeat it.
 */
function coveredByPattern(e: ErrorObject, all: readonly ErrorObject[]): boolean {
  return (e.keyword === "minLength" || e.keyword === "maxLength") && all.some((o) => o.keyword === "pattern" && o.instancePath === e.instancePath);
}

/** Turns ajv errors (compiled with `verbose: true`, for the offending values) into "path: reason" problems. */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined): SchemaProblem[] {
  const all = errors ?? [];
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of all) {
    if (coveredByPattern(e, all)) continue;
    const problem = { path: fieldPath(errorSegments(e)) || "(document)", message: reasonOf(e) };
    const key = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(problem);
    }
  }
  return out;
}
