import { catalog } from "../config/catalog.js";
import type { PolicyContext } from "../context.js";
import type { AddressSet } from "../net/address-set.js";
import { descriptorCurrent, localAddressesKnown, natAddressesDeclared, perTopology, remoteRangesDeclared } from "../premises.js";
import type { Direction, RemoteRanges } from "../topology.js";
import type { PremiseReport } from "../types.js";
import { addressAlternative, describeRemoteRanges, removePeerAdvice, remotesOverlapping } from "./advice.js";
import type { Rule } from "./rule.js";

/**
 * Routed remotes carry their own addresses across the link: undeclared, they may be the very addresses flagged.
 * Pods and nodes send and receive; service addresses are only ever dialled (egress), never a packet's source.
 */
function routedAddressesKnown(ctx: PolicyContext, range: AddressSet, direction: Direction): PremiseReport[] {
  const families = range.families();
  return perTopology(ctx.topology, `routed-addresses:${direction}:${families.join(",")}`, () => {
    const routed = ctx.topology.remotes.filter((r) => r.remote.connectivity === "routed");
    const kinds = direction === "egress" ? (["pod", "service", "node"] as const) : (["pod", "node"] as const);
    return routed.flatMap((r) => families.flatMap((f) => kinds.map((kind) => remoteRangesDeclared(ctx, r, kind, f))));
  });
}

/**
 * Every nat remote's translated addresses cross the link: undeclared, they may be anywhere, in the flagged block
 * too (a private NAT gateway inside its own node range, or inside another remote's overlapping range).
 */
function natAddressesKnown(ctx: PolicyContext, range: AddressSet, direction: Direction): PremiseReport[] {
  const families = range.families();
  return perTopology(ctx.topology, `nat-addresses:${direction}:${families.join(",")}`, () => {
    const nat = ctx.topology.remotes.filter((r) => r.remote.connectivity === "nat");
    return nat.flatMap((r) => families.map((f) => natAddressesDeclared(ctx, r, direction, f)));
  });
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
          path: peer.ipBlock.path,
          peerPath: peer.path,
          message: `${peer.ipBlock.noun} ${cidr.text} lies entirely in ${where}; ${why}, and this peer never matches.`,
          fix: [...remotes.map((r) => addressAlternative(r, peer.direction, ctx.model.syntax, cidr.family)), removePeerAdvice(peer)].join(" "),
          premises: [
            ...localAddressesKnown(ctx, range),
            ...routedAddressesKnown(ctx, range, peer.direction),
            ...natAddressesKnown(ctx, range, peer.direction),
            ...remotes.flatMap((r) => snatSourcesKnown(ctx, r, range)),
            ...remotes.flatMap(descriptorCurrent),
          ],
        },
      ];
    });
  },
};
