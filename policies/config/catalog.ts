import type { Certainty, RuleAction, RuleId } from "../types.js";

/** What is known about a rule without running it: the config checks, listings and SARIF read this, never the rules' code. */
export interface RuleInfo {
  readonly id: RuleId;
  /** One line, shown in listings and SARIF. */
  readonly title: string;
  readonly certainty: Certainty;
  readonly defaultAction: RuleAction;
  /**
   * Reasons about pod/namespace selectors across clusters, which only holds when the CNI
   * resolves selectors locally (policyScope local-only).
   */
  readonly remoteSelectorRule?: boolean;
}

/** Every rule's metadata, in the order findings are reported. */
export const catalog: { readonly [id in RuleId]: RuleInfo } = {
  "remote-cluster-selector": {
    id: "remote-cluster-selector",
    title: "namespaceSelector that can only match namespaces of another cluster",
    certainty: "provable",
    defaultAction: "deny",
    remoteSelectorRule: true,
  },
  "nat-hidden-cidr": {
    id: "nat-hidden-cidr",
    title: "ipBlock names only remote addresses that NAT hides from this cluster",
    certainty: "provable",
    defaultAction: "deny",
  },
  "empty-ipblock": {
    id: "empty-ipblock",
    title: "ipBlock whose except entries cover its whole cidr",
    certainty: "provable",
    defaultAction: "deny",
  },
  "unsatisfiable-selector": {
    id: "unsatisfiable-selector",
    title: "label selector whose requirements contradict each other",
    certainty: "provable",
    defaultAction: "deny",
  },
  "named-port-to-cidr": {
    id: "named-port-to-cidr",
    title: "named port in an egress rule whose peers are all ipBlocks outside the local pods",
    certainty: "provable",
    defaultAction: "deny",
  },
  "partially-hidden-cidr": {
    id: "partially-hidden-cidr",
    title: "part of an ipBlock names remote addresses that NAT hides from this cluster",
    certainty: "likely",
    defaultAction: "warn",
  },
  "ambiguous-remote-cidr": {
    id: "ambiguous-remote-cidr",
    title: "ipBlock names a remote range that overlaps this cluster's own ranges",
    certainty: "likely",
    defaultAction: "warn",
  },
  "pinned-remote-pod-ip": {
    id: "pinned-remote-pod-ip",
    title: "narrow ipBlock pinned to individual pod addresses of a routed remote cluster",
    certainty: "likely",
    defaultAction: "warn",
  },
  "remote-namespace-name": {
    id: "remote-namespace-name",
    title: "namespaceSelector names only namespaces that exist in a remote cluster, not here",
    certainty: "likely",
    defaultAction: "warn",
    remoteSelectorRule: true,
  },
  "ipblock-local-pods": {
    id: "ipblock-local-pods",
    title: "ipBlock overlaps this cluster's pod ranges",
    certainty: "likely",
    defaultAction: "warn",
  },
};

export const isRuleId = (id: string): id is RuleId => Object.prototype.hasOwnProperty.call(catalog, id);
