import { catalog } from "../config/catalog.js";
import type { PeerView, Syntax } from "../model/policy.js";
import type { AddressSet } from "../net/address-set.js";
import { emptyPeersWarning } from "./advice.js";
import type { Rule } from "./rule.js";

/** Why addresses of this cluster's pods are the wrong way to name them, per who enforces the policy. */
const WHY = {
  kubernetes: "whether an ipBlock matches pod traffic is implementation-defined and pod IPs are ephemeral.",
  cilium: "Cilium's CIDR rules do not apply to traffic between its own endpoints, so this matches none of those pods.",
  calico: "Calico matches them, but pod IPs are ephemeral: the rule follows whichever pod holds the address.",
} as const;

/** An except entry must lie strictly inside the cidr: it can carve the pods out of a broader block, never empty it. */
function fixFor(peer: PeerView, syntax: Syntax, range: AddressSet, overlap: AddressSet): string {
  if (range.within(overlap)) {
    return (
      `Select those pods with ${syntax.selectorPeer} instead and drop this ${peer.ipBlock?.noun ?? "ipBlock"}; ` +
      `if it is the rule's only peer, add the selector peer first, because ${emptyPeersWarning(peer)}.`
    );
  }
  return `Select in-cluster pods with ${syntax.selectorPeer}, and add ${overlap.toCidrs().join(", ")} to ${syntax.except}.`;
}

export const ipblockLocalPods: Rule = {
  ...catalog["ipblock-local-pods"],
  check(ctx) {
    const pods = ctx.topology.local.pods;
    return ctx.peers.flatMap((peer) => {
      if (!peer.ipBlock) return [];
      const { range, cidr } = peer.ipBlock;
      const overlap = range.intersect(pods);
      if (overlap.isEmpty()) return [];
      return [
        {
          path: peer.ipBlock.path,
          message: `${peer.ipBlock.noun} ${cidr.text} overlaps this cluster's pod range (${overlap.toCidrs().join(", ")}); ${WHY[ctx.model.enforcer ?? "kubernetes"]}`,
          fix: fixFor(peer, ctx.model.syntax, range, overlap),
        },
      ];
    });
  },
};
