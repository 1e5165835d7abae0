import { catalog } from "../config/catalog.js";
import { describeRemoteRanges } from "./advice.js";
import type { Rule } from "./rule.js";

export const ambiguousRemoteCidr: Rule = {
  ...catalog["ambiguous-remote-cidr"],
  check(ctx) {
    const { topology } = ctx;
    return ctx.peers.flatMap((peer) => {
      if (!peer.ipBlock) return [];
      const { range, cidr } = peer.ipBlock;
      const clash = range.intersect(topology.local.all);
      if (range.isEmpty() || clash.isEmpty() || !range.within(topology.remoteAll)) return [];
      const owners = topology.remotes.filter((r) => r.all.overlaps(clash));
      return [
        {
          path: peer.ipBlock.path,
          message:
            `${peer.ipBlock.noun} ${cidr.text} names ${owners.map((r) => describeRemoteRanges(r, clash, r.all)).join("; ")}, ` +
            `but ${clash.toCidrs().join(", ")} is also this cluster's own: it matches local traffic, not the remote's.`,
          fix: `Give the clusters non-overlapping ranges; until then, select local pods with ${ctx.model.syntax.selectorPeer} and reach the remote through addresses unique to it.`,
        },
      ];
    });
  },
};
