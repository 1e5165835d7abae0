import { catalog } from "../config/catalog.js";
import type { PeerSelector } from "../model/selector.js";
import { removePeerAdvice } from "./advice.js";
import type { RuleHit, Rule } from "./rule.js";

function contradiction(selector: PeerSelector | undefined): string | undefined {
  const keys = selector?.contradictoryKeys() ?? [];
  return keys.length === 0 ? undefined : `the requirements on ${keys.map((k) => JSON.stringify(k)).join(", ")} contradict each other`;
}

export const unsatisfiableSelector: Rule = {
  ...catalog["unsatisfiable-selector"],
  check(ctx) {
    const hits: RuleHit[] = [];
    for (const subject of ctx.model.subjects) {
      const own = contradiction(subject.selector);
      if (!own) continue;
      hits.push({
        path: subject.path,
        message: `${own}, so this policy selects no pod and has no effect.`,
        fix: "Make the requirements agree on each key (a key cannot be both required and absent, or have two different values).",
      });
    }
    for (const peer of ctx.peers) {
      for (const match of [peer.namespaceSelector, peer.podSelector]) {
        const why = contradiction(match?.selector);
        if (!why || !match) continue;
        hits.push({
          path: match.path,
          peerPath: peer.path,
          message: `${why}, so this peer matches nothing.`,
          fix: `Make the requirements agree on each key. ${removePeerAdvice(peer)}`,
        });
      }
    }
    return hits;
  },
};
