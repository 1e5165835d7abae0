import { catalog } from "../config/catalog.js";
import { contradictoryKeys, type LabelSelector } from "../selectors.js";
import { removePeerAdvice, peersFieldOf } from "./advice.js";
import type { RuleHit, Rule } from "./rule.js";

function contradiction(selector: LabelSelector | undefined): string | undefined {
  if (!selector) return undefined;
  const keys = contradictoryKeys(selector);
  return keys.length === 0 ? undefined : `the requirements on ${keys.map((k) => JSON.stringify(k)).join(", ")} contradict each other`;
}

export const unsatisfiableSelector: Rule = {
  ...catalog["unsatisfiable-selector"],
  check(ctx) {
    const hits: RuleHit[] = [];
    const own = contradiction(ctx.policy.spec.podSelector);
    if (own) {
      hits.push({
        path: "spec.podSelector",
        message: `${own}, so this policy selects no pod and has no effect.`,
        fix: "Make the matchLabels and matchExpressions agree on each key (a key cannot be both required and absent, or have two different values).",
      });
    }
    for (const peer of ctx.peers) {
      for (const field of ["namespaceSelector", "podSelector"] as const) {
        const why = contradiction(peer.peer[field]);
        if (!why) continue;
        hits.push({
          path: `${peer.path}.${field}`,
          peerPath: peer.path,
          message: `${why}, so this peer matches nothing.`,
          fix: `Make the requirements agree on each key. ${removePeerAdvice(peersFieldOf(peer))}`,
        });
      }
    }
    return hits;
  },
};
