import type { RuleId } from "../types.js";
import { ambiguousRemoteCidr } from "./ambiguous-remote-cidr.js";
import { emptyIpBlock } from "./empty-ipblock.js";
import { ipblockLocalPods } from "./ipblock-local-pods.js";
import { namedPortToCidr } from "./named-port-to-cidr.js";
import { natHiddenCidr } from "./nat-hidden-cidr.js";
import { partiallyHiddenCidr } from "./partially-hidden-cidr.js";
import { pinnedRemotePodIp } from "./pinned-remote-pod-ip.js";
import { remoteClusterSelector } from "./remote-cluster-selector.js";
import { remoteNamespaceName } from "./remote-namespace-name.js";
import type { Rule } from "./rule.js";
import { unsatisfiableSelector } from "./unsatisfiable-selector.js";

/** Every rule, in the order findings are reported. */
export const rules: readonly Rule[] = [
  remoteClusterSelector,
  natHiddenCidr,
  emptyIpBlock,
  unsatisfiableSelector,
  namedPortToCidr,
  partiallyHiddenCidr,
  ambiguousRemoteCidr,
  pinnedRemotePodIp,
  remoteNamespaceName,
  ipblockLocalPods,
];

export function ruleById(id: RuleId): Rule | undefined {
  return rules.find((r) => r.id === id);
}
