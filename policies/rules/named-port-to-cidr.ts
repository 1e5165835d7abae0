import { catalog } from "../config/catalog.js";
import { AddressSet } from "../net/address-set.js";
import { localAddressesKnown, namedPortsPerEndpoint, remoteRangesDeclared } from "../premises.js";
import type { Rule, RuleHit } from "./rule.js";

export const namedPortToCidr: Rule = {
  ...catalog["named-port-to-cidr"],
  check(ctx) {
    const { local, remotes } = ctx.topology;
    // A CNI that resolves selectors across clusters also knows the remote pods' named ports.
    const acrossClusters = ctx.loaded.config.cluster.policyScope !== "local-only";
    // Node addresses count as local pods here: hostNetwork pods carry them and may resolve named ports.
    let podLike = local.pods.union(local.nodes);
    if (acrossClusters) podLike = remotes.reduce((acc, r) => acc.union(r.pods).union(r.nodes), podLike);
    return ctx.rules.flatMap((rule) => {
      if (rule.direction !== "egress" || rule.peers.length === 0) return [];
      if (!rule.peers.every((p) => p.ipBlock && !p.ipBlock.range.overlaps(podLike))) return [];
      const named = rule.ports.filter((port) => port.named);
      if (named.length === 0) return [];
      const range = rule.peers.reduce((acc, p) => acc.union(p.ipBlock!.range), AddressSet.empty);
      const premises = [
        namedPortsPerEndpoint(ctx),
        ...localAddressesKnown(ctx, range),
        ...(acrossClusters ? remotes.flatMap((r) => range.families().flatMap((f) => [remoteRangesDeclared(ctx, r, "pod", f), remoteRangesDeclared(ctx, r, "node", f)])) : []),
      ];
      const allNamed = named.length === rule.ports.length;
      return named.map((port): RuleHit => ({
        path: port.path,
        message:
          `named port "${String(port.port)}" is resolved against the container ports of destination pods, but every peer of ${rule.path} ` +
          `is an address block outside this cluster's pods, so this port never matches${allNamed ? `: the rule ${rule.action === "deny" ? "blocks" : "allows"} nothing` : ""}.`,
        fix: `Write the port number the destination listens on (for example port: 443) instead of "${String(port.port)}".`,
        premises,
      }));
    });
  },
};
