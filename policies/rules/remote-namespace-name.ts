import { catalog } from "../config/catalog.js";
import { addressAlternative, emptyPeersWarning } from "./advice.js";
import type { Rule } from "./rule.js";

const NAME_LABEL = "kubernetes.io/metadata.name";
/** Namespaces every cluster has, whatever the cluster facts say. */
const BUILT_IN = ["default", "kube-system", "kube-public", "kube-node-lease"];

export const remoteNamespaceName: Rule = {
  ...catalog["remote-namespace-name"],
  check(ctx) {
    const own = ctx.model.namespace;
    const local = ctx.facts.localNamespaces;
    const knownLocal = new Set([...BUILT_IN, ...ctx.loaded.config.exemptNamespaces]);
    return ctx.peers.flatMap((peer) => {
      const match = peer.namespaceSelector;
      const names = match?.selector.requiredValues(NAME_LABEL);
      if (!names || names.length === 0) return [];
      const owners = names.map((n) => ctx.topology.remotes.filter((r) => r.remote.namespaces.includes(n)));
      if (owners.some((o) => o.length === 0)) return [];
      if (names.some((n) => n === own || knownLocal.has(n) || local?.has(n))) return [];
      const remotes = ctx.topology.remotes.filter((r) => owners.some((o) => o.includes(r)));
      const where = remotes.map((r) => r.remote.name).join(", ");
      return [
        {
          path: match!.path,
          message:
            `selects namespace${names.length > 1 ? "s" : ""} ${names.join(", ")} by name, declared in remote cluster ${where}` +
            `${local ? " and absent here" : ""}; the CNI resolves namespaces only in this cluster, so remote pods are never matched.`,
          fix: [
            ...remotes.map((r) => addressAlternative(r, peer.direction, ctx.model.syntax)),
            `Keep at least one peer in the rule: ${emptyPeersWarning(peer)}.`,
          ].join(" "),
        },
      ];
    });
  },
};
