/**
 * Soundness of every denial against a second, independent model of the world (fixtures/): a config (or none),
 * the cluster facts the engine is given, and a world consistent with both in which everything undeclared is
 * arbitrary: address families and node ranges nobody declared, local ranges the config misses but discovery
 * shows, the CNI's named-port semantics, how IPv4-mapped
 * blocks are read, namespace label state. The property: no finding with action deny flags an element that some
 * packet (namespace, pod) of that world can match. Also printed: how often each provable rule denies where the
 * world says nothing can match (completeness), not asserted.
 *   make property RUNS=100000                   (the larger run: NETGUARD_PROPERTY_RUNS)
 *   NETGUARD_PROPERTY_FREEDOMS=cni,mapped ...   (only these freedoms: one class of unsound denial at a time)
 *   NETGUARD_PROPERTY_SEED=N ...                 (replay the run whose comment printed seed N)
 */
import fc from "fast-check";
import t from "tap";
import { allFreedoms, caseArb, FREEDOMS, onlyFreedoms, type Freedoms } from "./fixtures/arbitraries.js";
import { elements, PROVABLE, type Provable } from "./fixtures/oracle.js";
import type { Case } from "./fixtures/world.js";
import { verdicts } from "./fixtures/verdicts.js";
import { regressions } from "./fixtures/regressions.js";

const RUNS = Number(process.env.NETGUARD_PROPERTY_RUNS ?? 6000);
const SEED = Number(process.env.NETGUARD_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const only = process.env.NETGUARD_PROPERTY_FREEDOMS;
const freedoms = only ? onlyFreedoms(only.split(",")) : allFreedoms();

const stats = new Map<Provable, { dead: number; deniedDead: number; denied: number; unsound: number }>(PROVABLE.map((r) => [r, { dead: 0, deniedDead: 0, denied: 0, unsound: 0 }]));

/** Empty when every denial is sound in the case's world; otherwise what went wrong. Counts as it goes. */
function check(c: Case): string[] {
  const { denied, problems } = verdicts(c);
  const known = new Set<string>();
  for (const e of elements(c)) {
    const key = `${e.rule} ${e.path}`;
    known.add(key);
    const s = stats.get(e.rule)!;
    const dead = !e.canMatch && e.counted;
    if (dead) s.dead++;
    if (!denied.has(key)) continue;
    s.denied++;
    if (e.canMatch) {
      s.unsound++;
      problems.push(`${key} denied, but something in the world matches it`);
    } else if (dead) s.deniedDead++;
  }
  for (const key of denied) if (!known.has(key)) problems.push(`${key}: a denial on an element the oracle does not model`);
  return problems;
}

/** The first counterexample (shrunk) of a run, if any. */
function run(free: Freedoms, numRuns: number): string | undefined {
  const details = fc.check(
    fc.property(caseArb(free), (c) => {
      const problems = check(c);
      if (problems.length > 0) throw new Error(problems.join("\n"));
    }),
    { numRuns, seed: SEED },
  );
  if (!details.failed) return undefined;
  return `${fc.stringify(details.counterexample)}\n${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`;
}

t.test(`no denial where the world model finds a match (${RUNS} random configs, worlds and policies)`, async (t) => {
  const started = performance.now();
  const counterexample = run(freedoms, RUNS);
  const seconds = (performance.now() - started) / 1000;
  const lines = PROVABLE.map((rule) => {
    const s = stats.get(rule)!;
    const pct = s.dead === 0 ? "n/a" : `${((100 * s.deniedDead) / s.dead).toFixed(1)}%`;
    return `${rule.padEnd(24)} denials checked ${String(s.denied).padStart(6)}  world-dead ${String(s.dead).padStart(6)}  denied there ${String(s.deniedDead).padStart(6)}  completeness ${pct.padStart(6)}  unsound ${s.unsound}`;
  });
  const checked = PROVABLE.reduce((n, r) => n + stats.get(r)!.denied, 0);
  const free = FREEDOMS.filter((f) => freedoms[f]).join(",");
  t.comment(`${RUNS} cases in ${seconds.toFixed(1)} s (${(RUNS / seconds).toFixed(0)} cases/s), ${checked} denials checked, ${counterexample ? 1 : 0} counterexamples; seed ${SEED}; freedoms ${free}\n${lines.join("\n")}`);
  t.equal(counterexample, undefined, "no counterexample");
  // Sanity: the run exercised denials of every provable rule (a model that never lets the engine deny proves nothing).
  if (!only && RUNS >= 1000) for (const rule of PROVABLE) t.ok(stats.get(rule)!.denied > 0, `${rule} denied somewhere`);
});

// One fixed world per class of unsound denial the old engine made (found by this oracle against branch main).
for (const { name, denial, c, control } of regressions) {
  t.test(name, async (t) => {
    t.same(check(c), [], "no denial that the world contradicts");
    t.same(check(control), [], "the control world agrees with the engine");
    t.ok(verdicts(control).denied.has(denial), `with the premise declared, the engine denies: ${denial}`);
  });
}
