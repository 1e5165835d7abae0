import { catalog } from "../config/catalog.js";
import type { PolicyContext } from "../context.js";
import type { AddressSet } from "../net/address-set.js";
import { localAddressesKnown, remoteRangesDeclared } from "../premises.js";
import type { RemoteRanges } from "../topology.js";
import type { PremiseReport } from "../types.js";
import { addressAlternative, describeRemoteRanges, peersFieldOf, removePeerAdvice, remotesOverlapping } from "./advice.js";
import type { Rule } from "./rule.js";

/** Routed remotes carry their own addresses across the link: undeclared, they may be the very addresses flagged. */
function routedAddressesKnown(ctx: PolicyContext, range: AddressSet): PremiseReport[] {
  const routed = ctx.topology.remotes.filter((r) => r.remote.connectivity === "routed");
  return routed.flatMap((r) => range.families().flatMap((f) => [remoteRangesDeclared(ctx, r, "pod", f), remoteRangesDeclared(ctx, r, "node", f)]));
}

/**
 * A routed remote that SNATs pod sources to its node addresses hides its pod range only where its nodes are not:
 * on AWS VPC CNI and Azure CNI the nodes sit inside the pod subnet, so undeclared node ranges leave it unknown.
 */
function snatSourcesKnown(ctx: PolicyContext, remote: RemoteRanges, range: AddressSet): PremiseReport[] {
  if (remote.remote.connectivity !== "routed" || !remote.remote.snatToNodes) return [];
  return range.families().map((f) => remoteRangesDeclared(ctx, remote, "node", f));
}

export const natHiddenCidr: Rule = {
  ...catalog["nat-hidden-cidr"],
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
          premises: [...localAddressesKnown(ctx, range), ...routedAddressesKnown(ctx, range), ...remotes.flatMap((r) => snatSourcesKnown(ctx, r, range))],
        },
      ];
    });
  },
};
