/**
 * Calico's selector language: the parser against libcalico-go's accepted and refused forms, and every sound
 * question against brute force over label sets (an evaluator written here from Calico's ast.go, not the module's).
 */
import fc from "fast-check";
import t from "tap";
import { calicoCanMatchWithAll, calicoContradictoryKeys, calicoMentionedValues, calicoRequiredValues, parseCalicoSelector, type CalicoSelector } from "../../policies/kinds/calico-selector.js";
import type { LabelState } from "../../policies/selectors.js";

const parse = (text: string): CalicoSelector => {
  const parsed = parseCalicoSelector(text);
  if ("error" in parsed) throw new Error(`${text}: ${parsed.error}`);
  return parsed.selector;
};

/** Calico's Evaluate (libcalico-go/lib/selector/parser/ast.go); global() is true at the label level there too. */
function matches(s: CalicoSelector, labels: Record<string, string>): boolean {
  const has = (k: string) => Object.hasOwn(labels, k);
  switch (s.op) {
    case "all":
    case "global":
      return true;
    case "has":
      return has(s.key);
    case "==":
      return has(s.key) && labels[s.key] === s.value;
    case "!=":
      return !has(s.key) || labels[s.key] !== s.value;
    case "in":
      return has(s.key) && s.values.includes(labels[s.key]!);
    case "not in":
      return !has(s.key) || !s.values.includes(labels[s.key]!);
    case "contains":
      return has(s.key) && labels[s.key]!.includes(s.value);
    case "starts with":
      return has(s.key) && labels[s.key]!.startsWith(s.value);
    case "ends with":
      return has(s.key) && labels[s.key]!.endsWith(s.value);
    case "!":
      return !matches(s.operand, labels);
    case "&&":
      return s.operands.every((o) => matches(o, labels));
    case "||":
      return s.operands.some((o) => matches(o, labels));
  }
}

t.test("the forms libcalico-go accepts", async (t) => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["", {}, true],
    ["all()", { a: "b" }, true],
    ["all( )", {}, true],
    ["has(a)", { a: "" }, true],
    ["has( a )", {}, false],
    ["a == 'b'", { a: "b" }, true],
    ['a == "b"', { a: "c" }, false],
    ["a != 'b'", {}, true],
    ["a in {'b', 'c'}", { a: "c" }, true],
    ["a in {'b', 'c',}", { a: "c" }, true],
    ["a in {}", { a: "c" }, false],
    ["a not in {'b'}", {}, true],
    ["a notin {'b'}", { a: "b" }, false],
    ["a contains 'x'", { a: "axb" }, true],
    ["a starts with 'x'", { a: "xa" }, true],
    ["a startswith 'x'", { a: "ax" }, false],
    ["a ends with 'x'", { a: "ax" }, true],
    ["!has(a)", {}, true],
    ["!!has(a)", {}, false],
    ["!a == 'b' && has(c)", { c: "" }, true],
    ["a == 'b' || c == 'd' && e == 'f'", { a: "b" }, true],
    ["(a == 'b' || c == 'd') && e == 'f'", { a: "b" }, false],
    ["projectcalico.org/name == 'kube-system'", { "projectcalico.org/name": "kube-system" }, true],
    ["\thas(a)\t", { a: "1" }, true],
  ];
  for (const [text, labels, expected] of cases) t.equal(matches(parse(text), labels), expected, `${JSON.stringify(text)} on ${JSON.stringify(labels)}`);
});

t.test("the forms libcalico-go refuses, with the offset", async (t) => {
  for (const text of ["a == b", "a = 'b'", "a ==", "has(a", "a in {'b'", "a in {'b' 'c'}", "(a == 'b'", "a == 'b')", "&& a == 'b'", "a == 'b", "a\n== 'b'", "a & b", "has (a)", "a in {,}", "a"]) {
    const parsed = parseCalicoSelector(text);
    t.ok("error" in parsed, `${JSON.stringify(text)} refused`);
    if ("error" in parsed) t.ok(parsed.offset >= 0 && parsed.offset <= text.length, `${JSON.stringify(text)}: ${parsed.error}`);
  }
  const deep = `${"(".repeat(200)}has(a)${")".repeat(200)}`;
  t.ok("error" in parseCalicoSelector(deep), "nesting is bounded");
});

const KEYS = ["a", "b", "c"];
const VALUES = ["x", "y", "xy", "yx"];
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);
const selector: fc.Arbitrary<CalicoSelector> = fc.letrec<{ s: CalicoSelector }>((tie) => ({
  s: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant<CalicoSelector>({ op: "all" }),
    fc.constant<CalicoSelector>({ op: "global" }),
    key.map((k): CalicoSelector => ({ op: "has", key: k })),
    fc.record({ op: fc.constantFrom("==", "!=", "contains", "starts with", "ends with"), key, value }) as fc.Arbitrary<CalicoSelector>,
    fc.record({ op: fc.constantFrom("in", "not in"), key, values: fc.uniqueArray(value, { maxLength: 3 }) }) as fc.Arbitrary<CalicoSelector>,
    tie("s").map((operand): CalicoSelector => ({ op: "!", operand })),
    fc.record({ op: fc.constantFrom("&&", "||"), operands: fc.array(tie("s"), { minLength: 2, maxLength: 3 }) }) as fc.Arbitrary<CalicoSelector>,
  ),
})).s;

/** Every label set over KEYS with values from VALUES plus one they never name. */
const UNIVERSE: Record<string, string>[] = KEYS.reduce<Record<string, string>[]>(
  (sets, k) => sets.flatMap((set) => [set, ...[...VALUES, "zzz"].map((v) => ({ ...set, [k]: v }))]),
  [{}],
);
const agrees = (labels: Record<string, string>, fixed: ReadonlyMap<string, LabelState>) =>
  [...fixed].every(([k, s]) => (s.present ? labels[k] === s.value : !Object.hasOwn(labels, k)));

t.test("the sound questions never contradict brute force (contains, starts with and ends with included)", async (t) => {
  const state = fc.oneof(fc.constant<LabelState>({ present: false }), fc.constantFrom(...VALUES, "zzz").map((v): LabelState => ({ present: true, value: v })));
  // A property returns false at the first disagreement; fast-check then reports the shrunk counterexample.
  fc.assert(
    fc.property(selector, fc.dictionary(key, state, { maxKeys: 2 }), (s, fixedStates) => {
      const fixed = new Map(Object.entries(fixedStates));
      const matching = UNIVERSE.filter((labels) => matches(s, labels));
      if (!calicoCanMatchWithAll(s, fixed) && matching.some((labels) => agrees(labels, fixed))) return false;
      if (calicoContradictoryKeys(s).length > 0 && matching.length > 0) return false;
      return KEYS.every((k) => {
        const required = calicoRequiredValues(s, k);
        if (required && !matching.every((labels) => required.includes(labels[k]!))) return false;
        const mentioned = calicoMentionedValues(s, k);
        // Values it does not mention are indistinguishable: renaming one to another never changes a verdict.
        return !mentioned || UNIVERSE.every((l) => !Object.hasOwn(l, k) || mentioned.includes(l[k]!) || matches(s, { ...l, [k]: "fresh" }) === matches(s, l));
      });
    }),
    { numRuns: 1000, seed: 1207 },
  );
  t.pass("1,000 selectors agree with brute force");
});

t.test("exact where the language is: unsatisfiable selectors are recognised", async (t) => {
  for (const text of ["has(a) && !has(a)", "a == 'x' && a == 'y'", "a in {} ", "a == 'x' && a not in {'x'}", "a contains 'x' && !has(a)"]) {
    t.ok(calicoContradictoryKeys(parse(text)).length > 0, `${text} matches nothing`);
  }
  for (const text of ["a contains 'x' && a ends with 'y'", "a != 'x' && a != 'y'", "global()", "!global()"]) t.same(calicoContradictoryKeys(parse(text)), [], `${text} may match`);
  t.same(calicoRequiredValues(parse("a in {'x', 'y'} && a != 'y'"), "a"), ["x"]);
  t.equal(calicoRequiredValues(parse("a starts with 'x'"), "a"), undefined);
  t.equal(calicoMentionedValues(parse("a starts with 'x'"), "a"), undefined);
  t.same(calicoMentionedValues(parse("a in {'x'} || a == 'y'"), "a"), ["x", "y"]);
  t.ok(calicoCanMatchWithAll(parse("a == 'x'"), new Map([["a", { present: true, value: "x" }]])));
  t.notOk(calicoCanMatchWithAll(parse("a == 'x'"), new Map([["a", { present: true, value: "y" }]])));
});
