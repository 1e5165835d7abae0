import fc from "fast-check";
import t from "tap";
import {
  canMatchWith,
  contradictoryKeys,
  isEmptySelector,
  requiredValues,
  type LabelSelector,
  type LabelSelectorRequirement,
  type LabelState,
} from "../../policies/selectors.js";

const absent = { present: false } as const;
const is = (value: string) => ({ present: true, value }) as const;

t.test("contradictoryKeys: satisfiable selectors", async (t) => {
  const ok: [string, LabelSelector][] = [
    ["empty selector", {}],
    ["matchLabels only", { matchLabels: { app: "web", tier: "front" } }],
    ["In alone", { matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }] }],
    ["NotIn alone (absence or another value satisfies it)", { matchExpressions: [{ key: "app", operator: "NotIn", values: ["a", "b"] }] }],
    ["Exists alone", { matchExpressions: [{ key: "app", operator: "Exists" }] }],
    ["DoesNotExist alone", { matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }],
    ["In ∩ In overlapping", { matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }, { key: "app", operator: "In", values: ["b", "c"] }] }],
    ["In + NotIn leaving a value", { matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }, { key: "app", operator: "NotIn", values: ["a"] }] }],
    ["Exists + NotIn (infinitely many values remain)", { matchExpressions: [{ key: "app", operator: "Exists" }, { key: "app", operator: "NotIn", values: ["a", "b", "c"] }] }],
    ["DoesNotExist + NotIn", { matchExpressions: [{ key: "app", operator: "DoesNotExist" }, { key: "app", operator: "NotIn", values: ["a"] }] }],
    ["matchLabels + agreeing In", { matchLabels: { app: "a" }, matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }] }],
    ["matchLabels + Exists", { matchLabels: { app: "a" }, matchExpressions: [{ key: "app", operator: "Exists" }] }],
    ["matchLabels + NotIn of another value", { matchLabels: { app: "a" }, matchExpressions: [{ key: "app", operator: "NotIn", values: ["b"] }] }],
    ["matchLabels with empty value", { matchLabels: { app: "" } }],
    ["different keys never contradict", { matchLabels: { a: "x" }, matchExpressions: [{ key: "b", operator: "DoesNotExist" }, { key: "c", operator: "NotIn", values: ["x"] }] }],
  ];
  for (const [name, selector] of ok) t.same(contradictoryKeys(selector), [], name);
});

t.test("contradictoryKeys: unsatisfiable selectors name the key", async (t) => {
  const bad: [string, LabelSelector, string[]][] = [
    ["In ∩ In disjoint", { matchExpressions: [{ key: "app", operator: "In", values: ["a"] }, { key: "app", operator: "In", values: ["b"] }] }, ["app"]],
    ["In + NotIn covering every value", { matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }, { key: "app", operator: "NotIn", values: ["b", "a", "c"] }] }, ["app"]],
    ["Exists + DoesNotExist", { matchExpressions: [{ key: "app", operator: "Exists" }, { key: "app", operator: "DoesNotExist" }] }, ["app"]],
    ["In + DoesNotExist", { matchExpressions: [{ key: "app", operator: "In", values: ["a"] }, { key: "app", operator: "DoesNotExist" }] }, ["app"]],
    ["matchLabels + DoesNotExist", { matchLabels: { app: "a" }, matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, ["app"]],
    ["matchLabels + NotIn of the same value", { matchLabels: { app: "a" }, matchExpressions: [{ key: "app", operator: "NotIn", values: ["a"] }] }, ["app"]],
    ["matchLabels + In without the value", { matchLabels: { app: "a" }, matchExpressions: [{ key: "app", operator: "In", values: ["b", "c"] }] }, ["app"]],
    ["In with no values matches nothing", { matchExpressions: [{ key: "app", operator: "In", values: [] }] }, ["app"]],
    [
      "several keys, only the contradictory ones are named",
      {
        matchLabels: { ok: "x", tier: "a" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["b"] },
          { key: "zone", operator: "Exists" },
          { key: "zone", operator: "DoesNotExist" },
        ],
      },
      ["tier", "zone"],
    ],
  ];
  for (const [name, selector, keys] of bad) t.same(contradictoryKeys(selector).sort(), keys, name);
});

t.test("canMatchWith: a key in a given state, other labels free", async (t) => {
  const key = "netguard.dev/cluster";
  const sel = (s: LabelSelector): LabelSelector => s;

  t.ok(canMatchWith({}, key, is("gcp-west")), "empty selector matches anything");
  t.ok(canMatchWith({}, key, absent));

  const pinned = sel({ matchLabels: { [key]: "aws-east" } });
  t.notOk(canMatchWith(pinned, key, is("gcp-west")));
  t.ok(canMatchWith(pinned, key, is("aws-east")));
  t.notOk(canMatchWith(pinned, key, absent), "matchLabels requires the key to be present");

  const inList = sel({ matchExpressions: [{ key, operator: "In", values: ["aws-east", "azure-north"] }] });
  t.notOk(canMatchWith(inList, key, is("gcp-west")));
  t.ok(canMatchWith(inList, key, is("azure-north")));
  t.notOk(canMatchWith(inList, key, absent));

  const notLocal = sel({ matchExpressions: [{ key, operator: "NotIn", values: ["gcp-west"] }] });
  t.notOk(canMatchWith(notLocal, key, is("gcp-west")));
  t.ok(canMatchWith(notLocal, key, absent), "absence satisfies NotIn");
  t.ok(canMatchWith(notLocal, key, is("anything-else")));

  const missing = sel({ matchExpressions: [{ key, operator: "DoesNotExist" }] });
  t.notOk(canMatchWith(missing, key, is("gcp-west")));
  t.ok(canMatchWith(missing, key, absent));

  const exists = sel({ matchExpressions: [{ key, operator: "Exists" }] });
  t.ok(canMatchWith(exists, key, is("gcp-west")));
  t.notOk(canMatchWith(exists, key, absent));

  const otherKey = sel({ matchLabels: { team: "pay" }, matchExpressions: [{ key: "env", operator: "NotIn", values: ["dev"] }] });
  t.ok(canMatchWith(otherKey, key, is("gcp-west")), "requirements on other keys do not constrain this one");

  const otherKeyDead = sel({ matchLabels: { team: "pay" }, matchExpressions: [{ key: "team", operator: "DoesNotExist" }] });
  t.notOk(canMatchWith(otherKeyDead, key, is("gcp-west")), "a contradiction on another key matches nothing at all");

  const both = sel({ matchLabels: { [key]: "gcp-west" }, matchExpressions: [{ key, operator: "NotIn", values: ["gcp-west"] }] });
  t.notOk(canMatchWith(both, key, is("gcp-west")));
  t.notOk(canMatchWith(both, key, absent));
});

t.test("requiredValues: the finite set of allowed values, or undefined", async (t) => {
  const key = "kubernetes.io/metadata.name";
  t.same(requiredValues({ matchLabels: { [key]: "payments" } }, key), ["payments"]);
  t.same(requiredValues({ matchExpressions: [{ key, operator: "In", values: ["payments", "ledger"] }] }, key), ["ledger", "payments"], "sorted");
  t.same(
    requiredValues({ matchExpressions: [{ key, operator: "In", values: ["a", "b", "c"] }, { key, operator: "NotIn", values: ["b"] }] }, key),
    ["a", "c"],
    "NotIn removes values",
  );
  t.same(
    requiredValues({ matchExpressions: [{ key, operator: "In", values: ["a", "b"] }, { key, operator: "In", values: ["b", "c"] }] }, key),
    ["b"],
    "In ∩ In",
  );
  t.same(requiredValues({ matchLabels: { [key]: "a" }, matchExpressions: [{ key, operator: "In", values: ["b"] }] }, key), [], "contradiction leaves no value");
  t.equal(requiredValues({}, key), undefined);
  t.equal(requiredValues({ matchLabels: { other: "x" } }, key), undefined, "key not mentioned");
  t.equal(requiredValues({ matchExpressions: [{ key, operator: "NotIn", values: ["a"] }] }, key), undefined, "NotIn alone allows any other value or absence");
  t.equal(requiredValues({ matchExpressions: [{ key, operator: "Exists" }] }, key), undefined, "Exists allows any value");
  t.equal(requiredValues({ matchExpressions: [{ key, operator: "DoesNotExist" }] }, key), undefined);
});

t.test("isEmptySelector", async (t) => {
  t.ok(isEmptySelector(undefined));
  t.ok(isEmptySelector({}));
  t.ok(isEmptySelector({ matchLabels: {}, matchExpressions: [] }));
  t.notOk(isEmptySelector({ matchLabels: { a: "b" } }));
  t.notOk(isEmptySelector({ matchExpressions: [{ key: "a", operator: "Exists" }] }));
});

// --- Randomized cross-check against Kubernetes' matching semantics, by enumerating labelings --------


const KEYS = ["a", "b"] as const;
const VALUES = ["x", "y", "z"] as const;
/** Each key absent, or one of the values, or a value no selector mentions. */
const STATES: LabelState[] = [absent, ...VALUES.map((v) => is(v)), is("fresh")];

function matches(selector: LabelSelector, labels: Record<string, LabelState>): boolean {
  const value = (k: string) => labels[k] ?? absent;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    const s = value(k);
    if (!s.present || s.value !== v) return false;
  }
  for (const r of selector.matchExpressions ?? []) {
    const s = value(r.key);
    const vals = r.values ?? [];
    if (r.operator === "In" && !(s.present && vals.includes(s.value))) return false;
    if (r.operator === "NotIn" && s.present && vals.includes(s.value)) return false;
    if (r.operator === "Exists" && !s.present) return false;
    if (r.operator === "DoesNotExist" && s.present) return false;
  }
  return true;
}

function* labelings(fixed?: { key: string; state: LabelState }): Generator<Record<string, LabelState>> {
  for (const sa of STATES) for (const sb of STATES) {
    const l: Record<string, LabelState> = { a: sa, b: sb };
    if (fixed) l[fixed.key] = fixed.state;
    yield l;
  }
}

const arbRequirement: fc.Arbitrary<LabelSelectorRequirement> = fc.oneof(
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom("In" as const, "NotIn" as const), values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1 }) }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom("Exists" as const, "DoesNotExist" as const) }),
);
const arbSelector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }),
    matchExpressions: fc.array(arbRequirement, { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

t.test("randomized: selector reasoning agrees with brute-force matching", async (t) => {
  fc.assert(
    fc.property(arbSelector, fc.constantFrom(...STATES), (selector, state) => {
      const satisfiable = [...labelings()].some((l) => matches(selector, l));
      if ((contradictoryKeys(selector).length === 0) !== satisfiable) throw new Error(`contradictoryKeys disagrees (satisfiable=${satisfiable})`);
      for (const key of KEYS) {
        const want = [...labelings({ key, state })].some((l) => matches(selector, l));
        if (canMatchWith(selector, key, state) !== want) throw new Error(`canMatchWith(${key}, ${JSON.stringify(state)}) should be ${want}`);
        const required = requiredValues(selector, key);
        if (required !== undefined) {
          for (const l of labelings()) {
            const s = l[key]!;
            if (matches(selector, l) && !(s.present && required.includes(s.value))) throw new Error(`requiredValues(${key}) misses ${JSON.stringify(s)}`);
          }
          if (satisfiable) {
            for (const v of required) {
              if (![...labelings({ key, state: is(v) })].some((l) => matches(selector, l))) throw new Error(`requiredValues(${key}) lists ${v}, which cannot match`);
            }
          }
        }
      }
    }),
    { numRuns: 2000, seed: 4242 },
  );
  t.pass("2000 random selectors agree");
});
