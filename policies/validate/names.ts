/**
 * The apiserver's syntax checks for names, label keys and values and port names
 * (k8s.io/apimachinery/pkg/util/validation), returning its reasons; empty means valid.
 * Lengths are in bytes, as Go counts them.
 */

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");
const tooLong = (max: number): string => `must be no more than ${max} bytes`;

/** The length (in bytes) and pattern checks most of these are made of. */
const lengthAndPattern = (value: string, max: number, pattern: RegExp, message: string): string[] => [
  ...(bytes(value) > max ? [tooLong(max)] : []),
  ...(pattern.test(value) ? [] : [message]),
];

export const dns1123SubdomainErrors = (value: string): string[] =>
  lengthAndPattern(value, 253, DNS1123_SUBDOMAIN, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");

export function dns1123LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (bytes(value) > 63) errors.push(tooLong(63));
  if (!DNS1123_LABEL.test(value)) {
    errors.push(
      DNS1123_SUBDOMAIN.test(value)
        ? "must not contain dots"
        : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    );
  }
  return errors;
}

/** Label keys, annotation keys (lower-cased first) and finalizer names: [prefix/]name. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split("/");
  if (parts.length > 2) {
    return ["must be a name of alphanumeric characters, '-', '_' or '.' (starting and ending with an alphanumeric) with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  const errors: string[] = [];
  const name = parts.at(-1)!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === "") errors.push("prefix part must be non-empty");
    else errors.push(...dns1123SubdomainErrors(prefix).map((e) => `prefix part ${e}`));
  }
  if (name === "") errors.push("name part must be non-empty");
  else if (bytes(name) > 63) errors.push(`name part ${tooLong(63)}`);
  if (!QUALIFIED_NAME.test(name)) {
    errors.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  }
  return errors;
}

export const labelValueErrors = (value: string): string[] =>
  lengthAndPattern(value, 63, LABEL_VALUE, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");

export function portNameErrors(port: string): string[] {
  const errors: string[] = [];
  if (bytes(port) > 15) errors.push(tooLong(15));
  if (!/^[-a-z0-9]+$/.test(port)) errors.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) errors.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errors.push("must not contain consecutive hyphens");
  if (port.startsWith("-") || port.endsWith("-")) errors.push("must not begin or end with a hyphen");
  return errors;
}

/**
 * Go's strings.ToLower for what can become a valid key: ASCII, plus the Kelvin sign (U+212A),
 * which lower-cases to an ASCII "k" (the only non-ASCII letter that does, besides U+0130 "İ",
 * which Go maps to a plain "i" and JavaScript to "i" and a combining dot).
 */
export const goToLower = (value: string): string => value.replace(/[A-Z\u212A\u0130]/g, (c) => (c === "\u212A" ? "k" : c === "\u0130" ? "i" : c.toLowerCase()));
