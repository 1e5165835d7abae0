import type { Rule, RuleHit } from "./rule.js";

export const namedPortToCidr: Rule = {
  id: "named-port-to-cidr",
  title: "named port in an egress rule whose peers are all ipBlocks outside the local pods",
  certainty: "provable",
  defaultAction: "deny",
  check(ctx) {
    const { local, remotes } = ctx.topology;
    // Node addresses count as local pods here: hostNetwork pods carry them and may resolve named ports.
    let podLike = local.pods.union(local.nodes);
    // A CNI that resolves selectors across clusters also knows the remote pods' named ports.
    if (ctx.loaded.config.cluster.policyScope !== "local-only") {
      podLike = remotes.reduce((acc, r) => acc.union(r.pods).union(r.nodes), podLike);
    }
    if (local.pods.isEmpty()) return []; // unknown pod ranges: nothing can be proven
    return ctx.rules.flatMap((rule) => {
      if (rule.direction !== "egress" || rule.peers.length === 0) return [];
      if (!rule.peers.every((p) => p.ipBlock && !p.ipBlock.range.overlaps(podLike))) return [];
      const named = rule.ports.map((port, i) => ({ port, i })).filter(({ port }) => typeof port.port === "string");
      const allNamed = named.length === rule.ports.length;
      return named.map(({ port, i }): RuleHit => ({
        path: `${rule.path}.ports[${i}].port`,
        message:
          `named port "${String(port.port)}" is resolved against the container ports of destination pods, but every peer of ${rule.path} ` +
          `is an ipBlock outside this cluster's pods, so this port never matches${allNamed ? ": the rule allows nothing" : ""}.`,
        fix: `Write the port number the destination listens on (for example port: 443) instead of "${String(port.port)}".`,
      }));
    });
  },
};
