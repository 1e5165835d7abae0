import type { Rule } from "./rule.js";

export const ipblockLocalPods: Rule = {
  id: "ipblock-local-pods",
  title: "ipBlock overlaps this cluster's pod ranges",
  certainty: "likely",
  defaultAction: "warn",
  check(ctx) {
    const pods = ctx.topology.local.pods;
    return ctx.peers.flatMap((peer) => {
      if (!peer.ipBlock) return [];
      const overlap = peer.ipBlock.range.intersect(pods);
      if (overlap.isEmpty()) return [];
      return [
        {
          path: `${peer.path}.ipBlock`,
          message: `ipBlock ${peer.ipBlock.cidr.text} overlaps this cluster's pod range (${overlap.toCidrs().join(", ")}); whether an ipBlock matches pod traffic is implementation-defined and pod IPs are ephemeral.`,
          fix: `Select in-cluster pods with podSelector/namespaceSelector, and add ${overlap.toCidrs().join(", ")} to this ipBlock's except.`,
        },
      ];
    });
  },
};
