/**
 * Ratcheting updates: an UPDATE may be denied only for what it introduces. A policy admitted in audit mode, or
 * before netguard was installed, must stay editable (labels, annotations, finalizers) and deletable.
 */
import { canonicalJson } from "./baseline.js";
import type { LoadedConfig } from "./config/load.js";
import { evaluatePolicy, type PolicyEvaluation } from "./engine.js";
import { parsePath } from "./path.js";
import type { ClusterFacts, Finding } from "./types.js";

function valueAt(object: unknown, path: string): unknown {
  let value = object;
  for (const segment of parsePath(path)) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/**
 * What makes two findings the same, wherever the flagged element sits: the rule, the kind of field (the path
 * without its indices, so spec.ingress[].from[].ipBlock) and the flagged element's content. A peer that moved
 * to another position or rule keeps its identity; a changed peer is a new one.
 */
export function findingIdentity(finding: Finding, object: unknown): string {
  const shape = finding.path.replace(/\[\d+\]/g, "[]");
  return `${finding.rule}\n${shape}\n${canonicalJson(valueAt(object, finding.path) ?? null)}`;
}

const PRE_EXISTING =
  "Pre-existing: the object already had this before this update, so it is not denied (an update is denied only for what it introduces).";

/**
 * Findings of the updated object, with the denials the old object already had lowered to warnings. Counted as a
 * multiset: an update that adds a second copy of an already flagged peer introduces one finding.
 */
export function ratchetFindings(findings: readonly Finding[], object: unknown, oldFindings: readonly Finding[], oldObject: unknown): Finding[] {
  const old = new Map<string, number>();
  for (const f of oldFindings) {
    const id = findingIdentity(f, oldObject);
    old.set(id, (old.get(id) ?? 0) + 1);
  }
  return findings.map((f) => {
    const id = findingIdentity(f, object);
    const left = old.get(id) ?? 0;
    if (left === 0) return f;
    old.set(id, left - 1);
    return f.action === "deny" ? { ...f, action: "warn", message: `${f.message} ${PRE_EXISTING}` } : f;
  });
}

/**
 * Evaluates an UPDATE of a policy of any kind: validated as the apiserver validates an update (what the stored object
 * already had, legacy spellings included, stays valid), and only the findings the update introduces may deny.
 */
export function evaluatePolicyUpdate(object: unknown, oldObject: unknown, loaded: LoadedConfig, facts: ClusterFacts = {}): PolicyEvaluation {
  const asUpdate = { operation: "UPDATE", oldObject } as const;
  const current = evaluatePolicy(object, loaded, facts, undefined, asUpdate);
  // The stored object judged as an update to itself: the apiserver accepted it, under whatever rules held then.
  const previous = evaluatePolicy(oldObject, loaded, facts, undefined, asUpdate);
  return { ...current, findings: ratchetFindings(current.findings, object, previous.findings, oldObject) };
}
