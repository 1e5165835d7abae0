import { addressAlternative, describeRemoteRanges, peersFieldOf, removePeerAdvice, remotesOverlapping } from "./advice.js";
import type { Rule } from "./rule.js";

export const natHiddenCidr: Rule = {
  id: "nat-hidden-cidr",
  title: "ipBlock names only remote addresses that NAT hides from this cluster",
  certainty: "provable",
  defaultAction: "deny",
  check(ctx) {
    return ctx.peers.flatMap((peer) => {
      if (!peer.ipBlock) return [];
      const { range, cidr } = peer.ipBlock;
      const hidden = ctx.topology.hidden[peer.direction];
      if (range.isEmpty() || !range.within(hidden)) return [];
      const remotes = remotesOverlapping(ctx.topology, range, (r) => r.hidden[peer.direction]);
      const where = remotes.map((r) => describeRemoteRanges(r, range, r.hidden[peer.direction])).join("; ");
      const why =
        peer.direction === "ingress"
          ? "traffic from there reaches this cluster with translated source addresses, so no arriving packet carries these"
          : "pods here reach that cluster only through translated addresses, so no leaving packet is addressed to these";
      return [
        {
          path: `${peer.path}.ipBlock`,
          peerPath: peer.path,
          message: `ipBlock ${cidr.text} lies entirely in ${where}; ${why}, and this peer never matches.`,
          fix: [...remotes.map((r) => addressAlternative(r, peer.direction, cidr.family)), removePeerAdvice(peersFieldOf(peer))].join(" "),
        },
      ];
    });
  },
};
