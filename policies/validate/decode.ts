/**
 * Decodes JSON into the shape of a Go API type the way the apiserver does with strict field
 * validation: unknown or mistyped fields are errors; `null` is the field's zero value (an absent
 * pointer, an empty struct, an empty string: so `ports: [null]` holds one empty port and
 * `labels: {a: null}` the label a="").
 */
import type { PathSegment } from "../path.js";
import { kindOf, TYPE_NAMES } from "../schema-errors.js";

export type GoType =
  | "string"
  | "int32"
  | "int64"
  | "bool"
  | "time"
  | "intOrString"
  | "json"
  | { struct: Readonly<Record<string, GoType>>; pointer?: boolean }
  | { slice: GoType }
  | { map: GoType };

export type DecodeReport = (at: PathSegment[], message: string) => void;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 3339 as Go's time.Parse(time.RFC3339) takes it (fractional seconds allowed). */
function isRfc3339(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const zone = m[9] === undefined || (Number(m[9]) < 24 && Number(m[10]) < 60);
  return month >= 1 && month <= 12 && day >= 1 && day <= days && hour < 24 && minute < 60 && second < 60 && zone;
}

/** The zero value a Go field of this type holds when the JSON says null inside a list or map. */
function zero(type: GoType): unknown {
  if (type === "string") return "";
  if (type === "int32" || type === "int64") return 0;
  if (type === "bool") return false;
  if (typeof type === "object" && "struct" in type && !type.pointer) return {};
  return undefined;
}

function wrongType(value: unknown, at: PathSegment[], report: DecodeReport, expected: string): undefined {
  report(at, `must be ${expected}, not ${kindOf(value)}`);
  return undefined;
}

/** Returns the decoded value (undefined: the field is absent). */
export function decodeAs(value: unknown, type: GoType, at: PathSegment[], report: DecodeReport): unknown {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case "string":
      if (typeof value === "boolean") {
        report(at, `must be a string, not ${kindOf(value)} (kubectl reads yes, no, on, off, y and n unquoted as booleans: quote the value)`);
        return undefined;
      }
      return typeof value === "string" ? value : wrongType(value, at, report, TYPE_NAMES.string!);
    case "bool":
      return typeof value === "boolean" ? value : wrongType(value, at, report, "true or false");
    case "int32":
    case "int64": {
      if (typeof value !== "number" || !Number.isInteger(value)) return wrongType(value, at, report, TYPE_NAMES.integer!);
      const limit = type === "int32" ? 2 ** 31 : 2 ** 63;
      return value >= -limit && value < limit ? value : wrongType(value, at, report, `an integer that fits in ${type}`);
    }
    case "intOrString":
      if (typeof value === "string") return value;
      if (typeof value === "number" && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) return value;
      return wrongType(value, at, report, `${TYPE_NAMES.integer!} or ${TYPE_NAMES.string!}`);
    case "time":
      if (typeof value !== "string") return wrongType(value, at, report, "an RFC 3339 time string");
      return isRfc3339(value) ? value : wrongType(value, at, report, "an RFC 3339 time (for example 2024-01-31T12:00:00Z)");
    case "json":
      return value;
  }
  if ("slice" in type) {
    if (!Array.isArray(value)) return wrongType(value, at, report, TYPE_NAMES.array!);
    return value.map((item, i) => (item === null ? zero(type.slice) : decodeAs(item, type.slice, [...at, i], report)));
  }
  if ("map" in type) {
    if (!isPlainObject(value)) return wrongType(value, at, report, TYPE_NAMES.object!);
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, v === null ? zero(type.map) : decodeAs(v, type.map, [...at, k], report)]),
    );
  }
  if (!isPlainObject(value)) return wrongType(value, at, report, TYPE_NAMES.object!);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const fieldType = Object.hasOwn(type.struct, k) ? type.struct[k] : undefined;
    if (!fieldType) {
      report([...at, k], "unknown field (kubectl's default strict validation refuses it)");
      continue;
    }
    const decoded = decodeAs(v, fieldType, [...at, k], report);
    if (decoded !== undefined) out[k] = decoded;
  }
  return out;
}

/** Zero value of a struct field that is not a pointer: an absent or null one decodes as {}. */
export const structValue = (value: unknown): Record<string, unknown> => (isPlainObject(value) ? value : {});
