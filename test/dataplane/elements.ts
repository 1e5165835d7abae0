/**
 * Which generated cases the dataplane can judge, and which of their elements it probes: each ipBlock of a
 * NetworkPolicy, with what netguard says of it (deny, warn, nothing) and what the world model says (can it match).
 * Pure. The CNI of the case must be one netguard knows nothing of (kube-router is none of Calico or Cilium), and
 * no IPv4-mapped spelling is written (kube-router's reading of one is not what is under test here).
 */
import fc from "fast-check";
import { cidrText, type Block } from "../property/fixtures/addresses.js";
import { allFreedoms, caseArb } from "../property/fixtures/arbitraries.js";
import { elements as oracleElements } from "../property/fixtures/oracle.js";
import { layout as writtenRules } from "../property/fixtures/syntax.js";
import { verdicts } from "../property/fixtures/verdicts.js";
import type { Case } from "../property/fixtures/world.js";
import type { Probed } from "./layout.js";

export type Verdict = "deny" | "warn" | "none";

export interface ProbedElement extends Probed {
  /** The ipBlock's path in the generated policy, e.g. spec.egress[1].to[0].ipBlock. */
  path: string;
  /** The strongest thing netguard says of it (nat-hidden-cidr at the ipBlock, empty-ipblock at its except). */
  verdict: Verdict;
  /** The findings behind the verdict, `rule path`. */
  findings: string[];
  /** The world model's answer: can some packet of this world match it. */
  canMatch: boolean;
}

/** The ipBlocks of a NetworkPolicy case (IPv4 and IPv6), each with netguard's verdict and the oracle's answer. */
export function probedElements(c: Case): ProbedElement[] {
  const { denied, warned } = verdicts(c);
  const oracle = new Map(oracleElements(c).map((e) => [`${e.rule} ${e.path}`, e]));
  return writtenRules(c).flatMap((rule) =>
    rule.peers.flatMap(({ peer, ipBlock, except }) => {
      if (!("ipBlock" in peer) || peer.ipBlock.mapped) return [];
      const keys = [`nat-hidden-cidr ${ipBlock}`, `empty-ipblock ${except}`];
      const deniedBy = keys.filter((k) => denied.has(k));
      const warnedBy = keys.filter((k) => warned.has(k));
      const verdict: Verdict = deniedBy.length ? "deny" : warnedBy.length ? "warn" : "none";
      return [{
        direction: rule.direction,
        cidr: peer.ipBlock.cidr,
        except: peer.ipBlock.except,
        path: ipBlock!,
        verdict,
        findings: verdict === "deny" ? deniedBy : warnedBy,
        canMatch: oracle.get(keys[0]!)?.canMatch ?? true,
      }];
    }),
  );
}

/** Cases the dataplane can stand for: NetworkPolicy, a CNI netguard does not know, at least one ipBlock. */
function judgeable(c: Case): boolean {
  const cni = c.config?.cni;
  return (c.kind ?? "NetworkPolicy") === "NetworkPolicy" && (cni === undefined || cni === "generic") && !c.facts.detectedCni && verdicts(c).problems.length === 0;
}

/**
 * `count` cases from the property generator (every freedom on), reproducible from `seed`, weighted towards what
 * the dataplane can contradict or teach: nat-hidden-cidr denials are rare in the generator's output (about 1 in
 * 400 cases), so the pool is large and each class has a share: up to 40% of the cases with a nat-hidden-cidr
 * denial, 25% with a warning, 15% with an empty-ipblock denial, the rest (the controls) as they come.
 */
export function pickCases(count: number, seed: number): Case[] {
  // Each candidate's elements once: the engine and the oracle are the cost of picking.
  const pool = fc
    .sample(caseArb(allFreedoms()), { numRuns: Math.max(2000, count * 300), seed })
    .filter(judgeable)
    .map((c) => ({ c, elements: probedElements(c) }))
    .filter(({ elements }) => elements.length > 0);
  type Candidate = (typeof pool)[number];
  const has = ({ elements }: Candidate, verdict: Verdict, rule?: string) => elements.some((e) => e.verdict === verdict && (!rule || e.findings.some((f) => f.startsWith(`${rule} `))));
  const picked: Candidate[] = [];
  const take = (share: number, wanted: (c: Candidate) => boolean) => picked.push(...pool.filter((c) => !picked.includes(c) && wanted(c)).slice(0, Math.ceil(count * share)));
  take(0.4, (c) => has(c, "deny", "nat-hidden-cidr"));
  take(0.25, (c) => has(c, "warn"));
  take(0.15, (c) => has(c, "deny", "empty-ipblock"));
  take(1, (c) => !has(c, "deny") && !has(c, "warn"));
  return picked.slice(0, count).map(({ c }) => c);
}

/** The ipBlock as a NetworkPolicy writes it. */
export const ipBlockOf = (e: { cidr: Block; except: Block[] }) => ({ cidr: cidrText(e.cidr), ...(e.except.length ? { except: e.except.map((b) => cidrText(b)) } : {}) });
