import { fieldPath } from "../path.js";
import type { NetworkPolicy, NetworkPolicyPeer } from "../types.js";
import { addressMatch } from "./address.js";
import type { PeerView, PolicyModel, PortView, RuleView } from "./policy.js";
import { labelSelectorView } from "./selector.js";

function peerView(direction: PeerView["direction"], path: string, peer: NetworkPolicyPeer): PeerView {
  const field = direction === "ingress" ? "from" : "to";
  const { ipBlock, namespaceSelector, podSelector } = peer;
  return {
    direction,
    path,
    action: "allow",
    peersField: field,
    ...(ipBlock ? { ipBlock: addressMatch(`${path}.ipBlock`, "ipBlock", ipBlock.cidr, ipBlock.except ?? [], `${path}.ipBlock.except`) } : {}),
    ...(namespaceSelector ? { namespaceSelector: { path: `${path}.namespaceSelector`, selector: labelSelectorView(namespaceSelector) } } : {}),
    ...(podSelector ? { podSelector: { path: `${path}.podSelector`, selector: labelSelectorView(podSelector) } } : {}),
  };
}

/** A validated networking.k8s.io/v1 NetworkPolicy in the model. */
export function networkPolicyModel(policy: NetworkPolicy): PolicyModel {
  const rules: RuleView[] = [];
  for (const [direction, field] of [["ingress", "from"], ["egress", "to"]] as const) {
    (policy.spec[direction] ?? []).forEach((rule, i) => {
      const raw = (rule as Record<string, NetworkPolicyPeer[] | undefined>)[field] ?? [];
      const peers = raw.map((peer, j) => peerView(direction, fieldPath(["spec", direction, i, field, j]), peer));
      const ports = (rule.ports ?? []).flatMap((p, j): PortView[] =>
        p.port === undefined ? [] : [{ path: fieldPath(["spec", direction, i, "ports", j, "port"]), port: p.port, named: typeof p.port === "string" }],
      );
      rules.push({ direction, path: fieldPath(["spec", direction, i]), action: "allow", peers, ports });
    });
  }
  return {
    kind: "NetworkPolicy",
    namespace: policy.metadata.namespace,
    name: policy.metadata.name,
    enforcer: undefined,
    subjects: [{ path: "spec.podSelector", selector: labelSelectorView(policy.spec.podSelector) }],
    rules,
    syntax: { address: (cidr) => `ipBlock cidr ${cidr}`, selectorPeer: "a podSelector/namespaceSelector peer", except: "this ipBlock's except" },
  };
}
