import { catalog } from "../config/catalog.js";
import type { PeerView } from "../context.js";
import type { AddressSet } from "../net/address-set.js";
import { peersFieldOf } from "./advice.js";
import type { Rule } from "./rule.js";

/** An except entry must lie strictly inside the cidr: it can carve the pods out of a broader block, never empty it. */
function fixFor(peer: PeerView, range: AddressSet, overlap: AddressSet): string {
  if (range.within(overlap)) {
    return (
      "Select those pods with a podSelector/namespaceSelector peer instead and drop this ipBlock; " +
      `if it is the rule's only peer, add the selector peer first, because an empty \`${peersFieldOf(peer)}\` allows all traffic.`
    );
  }
  return `Select in-cluster pods with podSelector/namespaceSelector, and add ${overlap.toCidrs().join(", ")} to this ipBlock's except.`;
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
          path: `${peer.path}.ipBlock`,
          message: `ipBlock ${cidr.text} overlaps this cluster's pod range (${overlap.toCidrs().join(", ")}); whether an ipBlock matches pod traffic is implementation-defined and pod IPs are ephemeral.`,
          fix: fixFor(peer, range, overlap),
        },
      ];
    });
  },
};
