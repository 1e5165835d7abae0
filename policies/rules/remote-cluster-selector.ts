import { catalog } from "../config/catalog.js";
import { ciliumClusterNameIsClusterName, clusterNameDeclared, namespacesLabelled } from "../premises.js";
import { addressAlternative, removePeerAdvice } from "./advice.js";
import type { Rule } from "./rule.js";

export const remoteClusterSelector: Rule = {
  ...catalog["remote-cluster-selector"],
  check(ctx) {
    const { clusterLabel, localName } = ctx.topology;
    return ctx.peers.flatMap((peer) => {
      const match = peer.namespaceSelector;
      if (!match) return [];
      const { selector } = match;
      const named = selector.requiredValues(clusterLabel) ?? [];
      // Without a declared name only a selector naming clusters is worth a word, and it cannot be proven.
      if (localName === undefined ? named.length === 0 : selector.canMatchWithAll(new Map([[clusterLabel, { present: true, value: localName }]]))) return [];
      // A selector that matches nothing at all is unsatisfiable-selector's to report, not a remote reference.
      if (selector.contradictoryKeys().length > 0) return [];
      const remotes = ctx.topology.remotes.filter((r) => named.includes(r.remote.name));
      const target = named.length > 0 ? `${clusterLabel} in (${named.join(", ")})` : `${clusterLabel} absent or not ${localName}`;
      const alternatives = remotes.map((r) => addressAlternative(r, peer.direction, ctx.model.syntax));
      return [
        {
          path: match.path,
          peerPath: peer.path,
          message:
            `selects namespaces with ${target}, but every namespace of this cluster carries ${clusterLabel}=${localName ?? "<cluster.name>"} ` +
            "and the CNI resolves selectors only against this cluster, so this peer matches nothing.",
          fix: [...(alternatives.length > 0 ? alternatives : ["Match remote traffic by address with an ipBlock instead."]), removePeerAdvice(peer)].join(" "),
          premises: [clusterNameDeclared(ctx), namespacesLabelled(ctx, selector), ...(match.viaCiliumClusterLabel ? [ciliumClusterNameIsClusterName(ctx)] : [])],
        },
      ];
    });
  },
};
