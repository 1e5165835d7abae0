import { catalog } from "../config/catalog.js";
import { familyBits } from "../net/cidr.js";
import { addressChoices } from "./advice.js";
import type { Rule } from "./rule.js";

/** IPv4 /28 and IPv6 /124 hold 16 addresses: narrower than any real pod pool, so it pins pods. */
const PINNED_HOST_BITS = 4;

export const pinnedRemotePodIp: Rule = {
  ...catalog["pinned-remote-pod-ip"],
  check(ctx) {
    return ctx.peers.flatMap((peer) => {
      if (!peer.ipBlock) return [];
      const { range, cidr } = peer.ipBlock;
      if (familyBits(cidr.family) - cidr.prefix > PINNED_HOST_BITS || range.isEmpty()) return [];
      if (range.within(ctx.topology.hidden[peer.direction])) return []; // nat-hidden-cidr says more
      const owner = ctx.topology.remotes.find((r) => r.remote.connectivity === "routed" && range.within(r.pods));
      if (!owner) return [];
      return [
        {
          path: peer.ipBlock.path,
          message: `${peer.ipBlock.noun} ${cidr.text} pins individual pod addresses of ${owner.remote.name}; pod IPs change whenever pods are rescheduled, so this rule silently stops matching.`,
          fix: `Allow a stable range instead: ${owner.remote.name}'s pod range (${addressChoices(owner.remote.podCIDRs, ctx.model.syntax, peer.direction, cidr.family)}), or a dedicated IP pool or egress gateway for those pods.`,
        },
      ];
    });
  },
};
