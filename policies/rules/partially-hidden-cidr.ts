import { catalog } from "../config/catalog.js";
import { addressAlternative, describeRemoteRanges, remotesOverlapping } from "./advice.js";
import type { Rule } from "./rule.js";

/** Below this share of hidden addresses, a broad range (0.0.0.0/0, 10.0.0.0/8) is taken to mean "everything". */
const MOSTLY_HIDDEN = 0.5;

export const partiallyHiddenCidr: Rule = {
  ...catalog["partially-hidden-cidr"],
  check(ctx) {
    const { topology } = ctx;
    return ctx.peers.flatMap((peer) => {
      if (!peer.ipBlock) return [];
      const { range, cidr } = peer.ipBlock;
      const hidden = range.intersect(topology.hidden[peer.direction]);
      if (hidden.isEmpty() || range.within(topology.hidden[peer.direction])) return [];
      if (range.shareIn(hidden) < MOSTLY_HIDDEN && !range.within(topology.declared)) return [];
      const remotes = remotesOverlapping(topology, hidden, (r) => r.hidden[peer.direction]);
      const where = remotes.map((r) => describeRemoteRanges(r, hidden, r.hidden[peer.direction])).join("; ");
      return [
        {
          path: peer.ipBlock.path,
          message: `part of ${peer.ipBlock.noun} ${cidr.text} (${hidden.toCidrs().join(", ")}) is ${where}, which NAT hides from this cluster: that part never matches.`,
          fix: [`Add ${hidden.toCidrs().join(", ")} to except or narrow the cidr.`, ...remotes.map((r) => addressAlternative(r, peer.direction, ctx.model.syntax, cidr.family))].join(" "),
        },
      ];
    });
  },
};
