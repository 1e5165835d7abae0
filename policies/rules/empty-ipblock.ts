import { catalog } from "../config/catalog.js";
import { removePeerAdvice } from "./advice.js";
import type { Rule } from "./rule.js";

export const emptyIpBlock: Rule = {
  ...catalog["empty-ipblock"],
  check(ctx) {
    return ctx.peers.flatMap((peer) => {
      if (!peer.ipBlock || !peer.ipBlock.range.isEmpty()) return [];
      return [
        {
          path: peer.ipBlock.exceptPath,
          peerPath: peer.path,
          message: `the except entries (${peer.ipBlock.except.join(", ")}) cover all of ${peer.ipBlock.cidr.text}, so this peer matches no address.`,
          fix: `Remove the except entries that cover the whole cidr. ${removePeerAdvice(peer)}`,
        },
      ];
    });
  },
};
