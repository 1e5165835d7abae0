/**
 * go-yaml v2's resolution of scalars (go.yaml.in/yaml/v2 resolve.go), which kubectl uses through
 * sigs.k8s.io/yaml: what a plain or tagged scalar means, and how a number becomes a map key.
 */

export type Resolved =
  | { kind: "null"; value: null }
  | { kind: "bool"; value: boolean }
  | { kind: "int"; value: number; exact: bigint }
  | { kind: "uint"; value: number; exact: bigint }
  | { kind: "float"; value: number }
  | { kind: "str"; value: string };

const TAG = "tag:yaml.org,2002:";
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const WORDS = new Map<string, Resolved>();
for (const [words, value] of [
  ["y Y yes Yes YES true True TRUE on On ON", true],
  ["n N no No NO false False FALSE off Off OFF", false],
] as const) {
  for (const w of words.split(" ")) WORDS.set(w, { kind: "bool", value });
}
for (const w of ["", "~", "null", "Null", "NULL"]) WORDS.set(w, { kind: "null", value: null });
for (const w of [".nan", ".NaN", ".NAN"]) WORDS.set(w, { kind: "float", value: NaN });
for (const w of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) WORDS.set(w, { kind: "float", value: Infinity });
for (const w of ["-.inf", "-.Inf", "-.INF"]) WORDS.set(w, { kind: "float", value: -Infinity });

/** strconv.ParseInt / ParseUint with base 0 (0x, 0o, 0b, leading-0 octal), without underscores. */
function parseGoInteger(text: string, signed: boolean): bigint | undefined {
  const match = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!match) return undefined;
  const [, sign, digits] = match as unknown as [string, string, string];
  if (!signed && sign !== "") return undefined;
  const body = /^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits.replace(/^0([XOB])/, (_, c: string) => `0${c.toLowerCase()}`);
  const magnitude = BigInt(body);
  const value = sign === "-" ? -magnitude : magnitude;
  if (signed ? value < -INT64_MAX - 1n || value > INT64_MAX : value > UINT64_MAX) return undefined;
  return value;
}

/** strconv.ParseFloat for the decimal forms YAML lets through; undefined when out of range. */
function parseGoFloat(text: string): number | undefined {
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const TIMESTAMP_START = /^[0-9]{4}-/;

/** A plain, untagged scalar. Timestamps stay strings (go-yaml v2 keeps them as text in an interface{}). */
export function resolvePlain(text: string): Resolved {
  const word = WORDS.get(text);
  const first = text[0] ?? "";
  if (text === "" || /[yYnNtTfFoO~.+\-0-9]/.test(first)) {
    if (word) return word;
  } else {
    return { kind: "str", value: text };
  }
  if (first === ".") {
    // ParseFloat on the text itself: underscores only between digits.
    if (/^\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+)?$/.test(text)) {
      const value = parseGoFloat(text.replace(/_/g, ""));
      if (value !== undefined) return { kind: "float", value };
    }
    return { kind: "str", value: text };
  }
  if (!/[+\-0-9]/.test(first) || TIMESTAMP_START.test(text)) return { kind: "str", value: text };
  const plain = text.replace(/_/g, "");
  const int = parseGoInteger(plain, true);
  if (int !== undefined) return { kind: "int", value: Number(int), exact: int };
  const uint = parseGoInteger(plain, false);
  if (uint !== undefined) return { kind: "uint", value: Number(uint), exact: uint };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const value = parseGoFloat(plain);
    if (value !== undefined) return { kind: "float", value };
  }
  return { kind: "str", value: text };
}

const shortTag = (tag: string): string => (tag.startsWith(TAG) ? `!!${tag.slice(TAG.length)}` : tag);

/** A scalar with an explicit tag (`!!str 010`, `!!int "8"`); other tags leave the text as it is. */
export function resolveTagged(tag: string, text: string): Resolved {
  const name = tag.startsWith(TAG) ? tag.slice(TAG.length) : undefined;
  if (name === "str") return { kind: "str", value: text };
  if (name === "binary") {
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(text)) throw new Error("!!binary value contains invalid base64 data");
    return { kind: "str", value: Buffer.from(text, "base64").toString("utf8") };
  }
  if (name === "timestamp" && TIMESTAMP_START.test(text)) return { kind: "str", value: text };
  if (!["int", "float", "bool", "null"].includes(name ?? "")) return { kind: "str", value: text };
  const resolved = resolvePlain(text);
  const got = resolved.kind === "uint" ? "int" : resolved.kind;
  if (got === name) return resolved;
  if (name === "float" && got === "int") return { kind: "float", value: resolved.value as number };
  const shown = TIMESTAMP_START.test(text) && got === "str" ? "timestamp" : got;
  throw new Error(`cannot decode ${shortTag(TAG + shown)} \`${text}\` as a ${shortTag(tag)}`);
}

/** strconv.FormatFloat(f, 'g', -1, 32), which sigs.k8s.io/yaml uses for a float map key. */
export function formatFloat32(value: number): string {
  if (Number.isNaN(value)) return ".nan";
  if (value === Infinity) return ".inf";
  if (value === -Infinity) return "-.inf";
  const single = Math.fround(value);
  if (single === 0) return Object.is(single, -0) ? "-0" : "0";
  let digits = "";
  for (let precision = 1; precision <= 9; precision++) {
    digits = single.toPrecision(precision);
    if (Math.fround(Number(digits)) === single) break;
  }
  const [mantissa, exponentText] = Number(digits).toExponential().split("e") as [string, string];
  const exponent = Number(exponentText);
  // Go's 'g' with the shortest precision uses %e when the exponent is < -4 or >= 6.
  if (exponent < -4 || exponent >= 6) {
    return `${mantissa}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(Number(digits));
}
