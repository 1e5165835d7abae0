/**
 * Calico's selector language (libcalico-go/lib/selector): parsed, then reasoned about soundly. A question about
 * which labels can match is answered by Kleene three-valued evaluation over a bounded set of label states per key:
 * absent, each literal the selector names for the key, and one "other" value. Every real value that is not a
 * literal behaves like "other" for ==, !=, in and not in; for contains, starts with, ends with and global() the
 * answer is unknown, so the evaluation can say "no match" only when no real labels match.
 */
import type { LabelState } from "../selectors.js";

export type CalicoSelector =
  | { op: "all" }
  | { op: "global" }
  | { op: "has"; key: string }
  | { op: "==" | "!=" | "contains" | "starts with" | "ends with"; key: string; value: string }
  | { op: "in" | "not in"; key: string; values: string[] }
  | { op: "!"; operand: CalicoSelector }
  | { op: "&&" | "||"; operands: CalicoSelector[] };

const MAX_DEPTH = 64;
/** Label-state combinations tried before a question is answered "can match" without proof. */
const MAX_COMBINATIONS = 4096;

type TokenKind = "label" | "string" | "has" | "(" | ")" | "{" | "}" | "," | "==" | "!=" | "!" | "&&" | "||" | "all" | "global" | "contains" | "starts with" | "ends with" | "in" | "not in";
/** `text` is set on labels, strings and has(). */
type Token = { kind: TokenKind; text?: string; offset: number };
type Failure = { error: string; offset: number };

const SIMPLE = ["&&", "||", "==", "!=", "!", "(", ")", "{", "}", ","] as const;
const LABEL = "[a-zA-Z0-9_./-]{1,512}";
/** After a label, the operator words, as Calico's tokenizer matches them (a prefix match, \s* inside). */
const OPERATORS: [RegExp, "contains" | "starts with" | "ends with" | "not in" | "in"][] = [
  [/^contains/, "contains"],
  [/^starts\s*with/, "starts with"],
  [/^ends\s*with/, "ends with"],
  [/^not\s*in\b/, "not in"],
  [/^in\b/, "in"],
];
const HAS = new RegExp(`^has\\(\\s*(${LABEL})\\s*\\)`);
const ALL = /^all\(\s*\)/;
const GLOBAL = /^global\(\s*\)/;
const IDENTIFIER = new RegExp(`^${LABEL}`);

/** A port of libcalico-go's selector tokenizer: only spaces and tabs separate tokens. */
function tokenize(text: string): Token[] | Failure {
  const tokens: Token[] = [];
  let i = 0;
  while (true) {
    while (text[i] === " " || text[i] === "\t") i++;
    if (i >= text.length) return tokens;
    const rest = text.slice(i);
    const c = rest[0]!;
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return { error: `unterminated string starting at offset ${i}`, offset: i };
      tokens.push({ kind: "string", text: text.slice(i + 1, end), offset: i });
      i = end + 1;
      continue;
    }
    const simple = SIMPLE.find((s) => rest.startsWith(s));
    if (simple) {
      tokens.push({ kind: simple, offset: i });
      i += simple.length;
      continue;
    }
    if (c === "=" || c === "&" || c === "|") return { error: `expected ${c}${c === "=" ? "=" : c} at offset ${i}`, offset: i };
    let match: RegExpExecArray | null;
    if (tokens.at(-1)?.kind === "label") {
      const operator = OPERATORS.find(([pattern]) => pattern.test(rest));
      if (!operator) return { error: `expected an operator after the label at offset ${i}`, offset: i };
      tokens.push({ kind: operator[1], offset: i });
      i += operator[0].exec(rest)![0].length;
    } else if ((match = HAS.exec(rest))) {
      tokens.push({ kind: "has", text: match[1]!, offset: i });
      i += match[0].length;
    } else if ((match = ALL.exec(rest) ?? GLOBAL.exec(rest))) {
      tokens.push({ kind: match[0].startsWith("all") ? "all" : "global", offset: i });
      i += match[0].length;
    } else if ((match = IDENTIFIER.exec(rest))) {
      tokens.push({ kind: "label", text: match[0], offset: i });
      i += match[0].length;
    } else {
      return { error: `unexpected character ${JSON.stringify(c)} at offset ${i}`, offset: i };
    }
  }
}

const describe = (token: Token | undefined): string => (token === undefined ? "the end" : JSON.stringify(token.text ?? token.kind));

/** A port of libcalico-go's recursive-descent selector parser; || binds loosest, then &&, then a run of !. */
class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }
  private fail(expected: string): never {
    const token = this.peek();
    const offset = token?.offset ?? this.length;
    throw new SyntaxError(`expected ${expected} at offset ${offset}, found ${describe(token)}`, { cause: offset });
  }
  private take(kind: TokenKind): Token | undefined {
    const token = this.peek();
    if (token?.kind !== kind) return undefined;
    this.at++;
    return token;
  }
  private expect(kind: TokenKind, expected: string = kind): Token {
    return this.take(kind) ?? this.fail(expected);
  }

  parse(): CalicoSelector {
    if (this.tokens.length === 0) return { op: "all" };
    const selector = this.or(0);
    if (this.peek()) this.fail("&&, || or the end");
    return selector;
  }

  private or(depth: number): CalicoSelector {
    const operands = [this.and(depth)];
    while (this.take("||")) operands.push(this.and(depth));
    return operands.length === 1 ? operands[0]! : { op: "||", operands };
  }
  private and(depth: number): CalicoSelector {
    const operands = [this.operation(depth)];
    while (this.take("&&")) operands.push(this.operation(depth));
    return operands.length === 1 ? operands[0]! : { op: "&&", operands };
  }
  private operation(depth: number): CalicoSelector {
    let negated = false;
    while (this.take("!")) negated = !negated;
    const operation = this.operand(depth);
    return negated ? { op: "!", operand: operation } : operation;
  }
  private operand(depth: number): CalicoSelector {
    if (this.take("(")) {
      if (depth >= MAX_DEPTH) this.fail(`at most ${MAX_DEPTH} nested parentheses`);
      const inner = this.or(depth + 1);
      this.expect(")");
      return inner;
    }
    const has = this.take("has");
    if (has) return { op: "has", key: has.text! };
    if (this.take("all")) return { op: "all" };
    if (this.take("global")) return { op: "global" };
    const key = this.expect("label", "a label, has(), all(), global(), ! or (").text!;
    for (const op of ["==", "!=", "contains", "starts with", "ends with"] as const) if (this.take(op)) return { op, key, value: this.expect("string", "a quoted value").text! };
    for (const op of ["in", "not in"] as const) if (this.take(op)) return { op, key, values: this.set() };
    return this.fail("==, !=, in, not in, contains, starts with or ends with");
  }
  /** Calico accepts a trailing comma and an empty set. */
  private set(): string[] {
    this.expect("{");
    const values: string[] = [];
    for (let value = this.take("string"); value; value = this.take(",") ? this.take("string") : undefined) values.push(value.text!);
    this.expect("}", "a quoted value, , or }");
    return values;
  }
}

export function parseCalicoSelector(text: string): { selector: CalicoSelector } | { error: string; offset: number } {
  const tokens = tokenize(text);
  if (!Array.isArray(tokens)) return tokens;
  try {
    return { selector: new Parser(tokens, text.length).parse() };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { error: error.message, offset: error.cause as number };
  }
}

type Truth = boolean | undefined;
type States = (key: string) => LabelState | "other";

const not = (t: Truth): Truth => (t === undefined ? undefined : !t);

function evaluate(selector: CalicoSelector, state: States, global: () => Truth): Truth {
  switch (selector.op) {
    case "all":
      return true;
    case "global":
      return global();
    case "!":
      return not(evaluate(selector.operand, state, global));
    case "&&": {
      let result: Truth = true;
      for (const operand of selector.operands) {
        const t = evaluate(operand, state, global);
        if (t === false) return false;
        if (t === undefined) result = undefined;
      }
      return result;
    }
    case "||": {
      let result: Truth = false;
      for (const operand of selector.operands) {
        const t = evaluate(operand, state, global);
        if (t === true) return true;
        if (t === undefined) result = undefined;
      }
      return result;
    }
  }
  const s = state(selector.key);
  if (s !== "other" && !s.present) return selector.op === "!=" || selector.op === "not in";
  if (selector.op === "has") return true;
  const value = s === "other" ? undefined : s.value;
  switch (selector.op) {
    case "==":
      return value === selector.value;
    case "!=":
      return value !== selector.value;
    case "in":
      return value !== undefined && selector.values.includes(value);
    case "not in":
      return value === undefined || !selector.values.includes(value);
    case "contains":
      return value === undefined ? undefined : value.includes(selector.value);
    case "starts with":
      return value === undefined ? undefined : value.startsWith(selector.value);
    case "ends with":
      return value === undefined ? undefined : value.endsWith(selector.value);
  }
}

type Term = Extract<CalicoSelector, { key: string }>;

function terms(selector: CalicoSelector, out: Term[] = []): Term[] {
  if (selector.op === "!") terms(selector.operand, out);
  else if (selector.op === "&&" || selector.op === "||") selector.operands.forEach((o) => terms(o, out));
  else if ("key" in selector) out.push(selector);
  return out;
}

function literals(term: Term): string[] {
  return "values" in term ? term.values : "value" in term ? [term.value] : [];
}

type Candidate = LabelState | "other";

/** Every key the selector reads, with the states that tell its terms apart. */
function candidates(selector: CalicoSelector): Map<string, Candidate[]> {
  const byKey = new Map<string, Set<string>>();
  for (const term of terms(selector)) {
    const values = byKey.get(term.key) ?? new Set();
    literals(term).forEach((v) => values.add(v));
    byKey.set(term.key, values);
  }
  return new Map([...byKey].map(([key, values]) => [key, [{ present: false }, "other", ...[...values].map((value): Candidate => ({ present: true, value }))]]));
}

/**
 * Can some object whose labels in `fixed` are as given (every other label free) match? False only when none can;
 * too many combinations to try counts as "can".
 */
function canMatch(selector: CalicoSelector, fixed: ReadonlyMap<string, Candidate>): boolean {
  const free = [...candidates(selector)].filter(([key]) => !fixed.has(key));
  if (free.reduce((n, [, c]) => n * c.length, 1) > MAX_COMBINATIONS) return true;
  const assignment = new Map<string, Candidate>(fixed);
  const state: States = (key) => assignment.get(key) ?? { present: false };
  const search = (i: number): boolean => {
    if (i === free.length) return evaluate(selector, state, () => undefined) !== false;
    const [key, options] = free[i]!;
    return options.some((option) => {
      assignment.set(key, option);
      return search(i + 1);
    });
  };
  return search(0);
}

export function calicoCanMatchWithAll(selector: CalicoSelector, states: ReadonlyMap<string, LabelState>): boolean {
  return canMatch(selector, states);
}

/** When defined, every object the selector matches has `key` with one of these values. */
export function calicoRequiredValues(selector: CalicoSelector, key: string): string[] | undefined {
  const options = candidates(selector).get(key) ?? [{ present: false }, "other"];
  const matching = options.filter((option) => canMatch(selector, new Map([[key, option]])));
  if (matching.some((option) => option === "other" || !option.present)) return undefined;
  return matching.map((option) => (option as { value: string }).value);
}

/** The keys the selector reads when it matches nothing at all; empty when it may match. */
export function calicoContradictoryKeys(selector: CalicoSelector): string[] {
  return canMatch(selector, new Map()) ? [] : [...candidates(selector).keys()];
}

/** The literals the selector compares `key` with; undefined when it also reads the key's value by substring. */
export function calicoMentionedValues(selector: CalicoSelector, key: string): string[] | undefined {
  const own = terms(selector).filter((term) => term.key === key);
  if (own.some((term) => term.op === "contains" || term.op === "starts with" || term.op === "ends with")) return undefined;
  return [...new Set(own.flatMap(literals))];
}
