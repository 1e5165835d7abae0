/**
 * Soundness of the provable rules against a brute-force oracle (fixtures/oracle.ts) over random topologies and
 * policies (fixtures/arbitraries.ts): a provable rule may fire only where the oracle finds no packet (or no
 * namespace, no pod) that the flagged element could match. Also reports completeness: how often each
 * provable rule fires where the oracle says nothing can match.
 *   NETGUARD_PROPERTY_RUNS=100000 npx tap --timeout=0 test/property   (the larger run)
 */
import fc from "fast-check";
import t from "tap";
import { evaluateNetworkPolicy, loadConfig } from "../../policies/index.js";
import type { LabelSelector } from "../../policies/selectors.js";
import { caseArb, configDocument, policyDocument, type Case } from "./fixtures/arbitraries.js";
import { reach, satisfiable, someAddress } from "./fixtures/oracle.js";

const RUNS = Number(process.env.NETGUARD_PROPERTY_RUNS ?? 12000);
const NAME_LABEL = "kubernetes.io/metadata.name";
const PROVABLE = ["nat-hidden-cidr", "empty-ipblock", "unsatisfiable-selector", "remote-cluster-selector", "named-port-to-cidr"] as const;
type Provable = (typeof PROVABLE)[number];

/** One element a provable rule can flag, at the path its finding names, and whether the oracle says it can match. */
interface Element {
  rule: Provable;
  path: string;
  canMatch: boolean;
  /** Whether the rule is meant to report this element when it cannot match (for completeness); default true. */
  counted?: boolean;
}

function elements(c: Case): Element[] {
  const { topology } = c;
  const r = reach(topology);
  const everyNamespace = { present: [NAME_LABEL] };
  // With local-only, the CNI resolves namespaceSelectors here, where every namespace carries the cluster label.
  const localNamespaces = topology.policyScope === "local-only" ? { ...everyNamespace, fixed: { [topology.clusterLabel]: topology.localName } } : everyNamespace;
  const out: Element[] = [{ rule: "unsatisfiable-selector", path: "spec.podSelector", canMatch: satisfiable(c.policy.podSelector) }];
  for (const direction of ["ingress", "egress"] as const) {
    const field = direction === "ingress" ? "from" : "to";
    c.policy[direction].forEach((rule, i) => {
      for (const [j, peer] of (rule.peers ?? []).entries()) {
        const at = `spec.${direction}[${i}].${field}[${j}]`;
        if ("ipBlock" in peer) {
          const { cidr, except } = peer.ipBlock;
          out.push({ rule: "empty-ipblock", path: `${at}.ipBlock.except`, canMatch: someAddress(cidr, except) });
          // An empty ipBlock is empty-ipblock's to report: not counted here.
          out.push({ rule: "nat-hidden-cidr", path: `${at}.ipBlock`, canMatch: someAddress(cidr, except, r[direction]), counted: someAddress(cidr, except) });
          continue;
        }
        const selectors: [string, LabelSelector | undefined, object][] = [["podSelector", peer.podSelector, {}], ["namespaceSelector", peer.namespaceSelector, everyNamespace]];
        for (const [name, selector, population] of selectors) {
          if (selector) out.push({ rule: "unsatisfiable-selector", path: `${at}.${name}`, canMatch: satisfiable(selector, population) });
        }
        if (peer.namespaceSelector) {
          // A selector that matches no namespace anywhere is unsatisfiable-selector's to report: not counted here.
          const counted = satisfiable(peer.namespaceSelector, everyNamespace);
          out.push({ rule: "remote-cluster-selector", path: `${at}.namespaceSelector`, canMatch: satisfiable(peer.namespaceSelector, localNamespaces), counted });
        }
      }
      if (direction !== "egress") return;
      // A named port matches a destination pod that declares it: possible when the rule allows all peers,
      // has a selector peer, or an ipBlock reaching addresses where such pods can be.
      const podsReachable =
        !rule.peers || rule.peers.length === 0 || rule.peers.some((p) => !("ipBlock" in p) || someAddress(p.ipBlock.cidr, p.ipBlock.except, r.namedPortPods));
      (rule.ports ?? []).forEach((port, k) => {
        if (typeof port.port === "string") out.push({ rule: "named-port-to-cidr", path: `spec.egress[${i}].ports[${k}].port`, canMatch: podsReachable });
      });
    });
  }
  return out;
}

const stats = new Map<Provable, { dead: number; firedOnDead: number; unsound: number }>(PROVABLE.map((r) => [r, { dead: 0, firedOnDead: 0, unsound: 0 }]));

/** Empty when sound; otherwise what went wrong. Counts completeness as it goes. */
function check(c: Case): string[] {
  const config = loadConfig(configDocument(c.topology));
  if (!config.ok) return [`generated config rejected: ${JSON.stringify(config.problems)}`];
  const evaluation = evaluateNetworkPolicy(policyDocument(c), config.loaded);
  if (evaluation.inputErrors.length > 0) return [`generated policy rejected: ${JSON.stringify(evaluation.inputErrors)}`];
  const problems = evaluation.ruleFailures.map((f) => `rule ${f.rule} threw: ${f.error}`);
  const fired = new Set(evaluation.findings.filter((f) => f.certainty === "provable").map((f) => `${f.rule} ${f.path}`));
  const known = new Set<string>();
  for (const e of elements(c)) {
    const key = `${e.rule} ${e.path}`;
    known.add(key);
    const s = stats.get(e.rule)!;
    const counted = !e.canMatch && e.counted !== false;
    if (counted) s.dead++;
    if (!fired.has(key)) continue;
    if (e.canMatch) {
      s.unsound++;
      problems.push(`${key} fired, but the oracle finds something it matches`);
    } else if (counted) s.firedOnDead++;
  }
  for (const key of fired) if (!known.has(key)) problems.push(`${key}: a provable finding on an element the oracle does not know`);
  return problems;
}

t.test(`provable rules never fire where the oracle finds a match (${RUNS} random topologies and policies)`, async (t) => {
  const started = performance.now();
  fc.assert(
    fc.property(caseArb, (c) => {
      const problems = check(c);
      if (problems.length > 0) throw new Error(problems.join("\n"));
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
  const seconds = (performance.now() - started) / 1000;
  const lines = PROVABLE.map((rule) => {
    const s = stats.get(rule)!;
    const pct = s.dead === 0 ? "n/a" : `${((100 * s.firedOnDead) / s.dead).toFixed(1)}%`;
    return `${rule.padEnd(24)} oracle-dead ${String(s.dead).padStart(7)}  fired ${String(s.firedOnDead).padStart(7)}  completeness ${pct.padStart(6)}  unsound ${s.unsound}`;
  });
  t.comment(`${RUNS} cases in ${seconds.toFixed(1)} s\n${lines.join("\n")}`);
  for (const rule of PROVABLE) t.equal(stats.get(rule)!.unsound, 0, `${rule}: no firing where something matches`);
});

// The oracle's first counterexample, kept as a fixed case: pods and nodes sharing a subnet (Azure CNI) behind
// snatToNodes. Node sources do arrive, so an ipBlock naming the subnet is not NAT-hidden.
t.test("a routed remote's node range inside its own snatted pod range is not NAT-hidden", async (t) => {
  const subnet = { start: 1024, bits: 9 };
  const c: Case = {
    topology: {
      family: 4,
      localName: "here",
      clusterLabel: "netguard.dev/cluster",
      policyScope: "local-only",
      local: { pods: [], services: [], nodes: [] },
      remotes: [{ name: "azure", connectivity: "routed", snatToNodes: true, pods: [subnet], services: [], nodes: [{ start: 1280, bits: 4 }], natSources: [], exposed: [] }],
    },
    policy: { podSelector: {}, ingress: [{ peers: [{ ipBlock: { cidr: subnet, except: [] } }] }], egress: [] },
  };
  t.same(check(c), []);
});
