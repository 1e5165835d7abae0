/**
 * Soundness of every denial against a second, independent model of the world (fixtures/): a config (or none),
 * the cluster facts the engine is given, and a world consistent with both in which everything undeclared is
 * arbitrary: address families and node ranges nobody declared, the CNI's named-port semantics, how IPv4-mapped
 * blocks are read, namespace label state. The property: no finding with action deny flags an element that some
 * packet (namespace, pod) of that world can match. Also printed: how often each provable rule denies where the
 * world says nothing can match (completeness), not asserted.
 *   NETGUARD_PROPERTY_RUNS=100000 npx tap --timeout=0 test/property/soundness.test.ts    (the larger run)
 *   NETGUARD_PROPERTY_FREEDOMS=cni,mapped ...   (only these freedoms: one class of unsound denial at a time)
 */
import fc from "fast-check";
import t from "tap";
import { defaultConfig, evaluateNetworkPolicy, loadConfig } from "../../policies/index.js";
import { allFreedoms, caseArb, onlyFreedoms } from "./fixtures/arbitraries.js";
import { elements, PROVABLE, type Provable } from "./fixtures/oracle.js";
import { configDocument, factsObject, policyDocument, type Case } from "./fixtures/world.js";
import { regressions } from "./fixtures/regressions.js";

const RUNS = Number(process.env.NETGUARD_PROPERTY_RUNS ?? 4000);
const only = process.env.NETGUARD_PROPERTY_FREEDOMS;
const freedoms = only ? onlyFreedoms(only.split(",")) : allFreedoms();

const stats = new Map<Provable, { dead: number; deniedDead: number; denied: number; unsound: number }>(PROVABLE.map((r) => [r, { dead: 0, deniedDead: 0, denied: 0, unsound: 0 }]));

/** Empty when every denial is sound in the case's world; otherwise what went wrong. Counts as it goes. */
function check(c: Case): string[] {
  const config = c.config ? loadConfig(configDocument(c.config)) : ({ ok: true, loaded: defaultConfig() } as const);
  if (!config.ok) return [`generated config rejected: ${JSON.stringify(config.problems)}`];
  const evaluation = evaluateNetworkPolicy(policyDocument(c), config.loaded, factsObject(c.facts));
  if (evaluation.inputErrors.length > 0) return [`generated policy rejected: ${JSON.stringify(evaluation.inputErrors)}`];
  const problems = evaluation.ruleFailures.map((f) => `rule ${f.rule} threw: ${f.error}`);
  const denied = new Set(evaluation.findings.filter((f) => f.action === "deny").map((f) => `${f.rule} ${f.path}`));
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

t.test(`no denial where the world model finds a match (${RUNS} random configs, worlds and policies)`, async (t) => {
  const started = performance.now();
  fc.assert(
    fc.property(caseArb(freedoms), (c) => {
      const problems = check(c);
      if (problems.length > 0) throw new Error(problems.join("\n"));
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
  const seconds = (performance.now() - started) / 1000;
  const lines = PROVABLE.map((rule) => {
    const s = stats.get(rule)!;
    const pct = s.dead === 0 ? "n/a" : `${((100 * s.deniedDead) / s.dead).toFixed(1)}%`;
    return `${rule.padEnd(24)} denials checked ${String(s.denied).padStart(6)}  world-dead ${String(s.dead).padStart(6)}  denied there ${String(s.deniedDead).padStart(6)}  completeness ${pct.padStart(6)}  unsound ${s.unsound}`;
  });
  const checked = PROVABLE.reduce((n, r) => n + stats.get(r)!.denied, 0);
  t.comment(`${RUNS} cases in ${seconds.toFixed(1)} s (${(RUNS / seconds).toFixed(0)} cases/s), ${checked} denials checked, 0 counterexamples\n${lines.join("\n")}`);
  // Sanity: the run exercised denials of every provable rule (a model that never lets the engine deny proves nothing).
  for (const rule of PROVABLE) t.ok(stats.get(rule)!.denied > 0 || RUNS < 1000, `${rule} denied somewhere`);
});

// One fixed world per class of unsound denial the old engine made (found by this oracle against branch main).
for (const { name, c } of regressions) {
  t.test(name, async (t) => {
    t.same(check(c), []);
  });
}
