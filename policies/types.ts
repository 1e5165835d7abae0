import type { LabelSelector } from "./selectors.js";

export type RuleId =
  | "remote-cluster-selector"
  | "nat-hidden-cidr"
  | "empty-ipblock"
  | "unsatisfiable-selector"
  | "named-port-to-cidr"
  | "partially-hidden-cidr"
  | "ambiguous-remote-cidr"
  | "pinned-remote-pod-ip"
  | "remote-namespace-name"
  | "ipblock-local-pods";

/** provable: no packet can ever match what is flagged (may deny). likely: probably wrong (warns only). */
export type Certainty = "provable" | "likely";
export type RuleAction = "deny" | "warn" | "off";
export type FindingAction = "deny" | "warn";

export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export interface Finding {
  rule: string;
  action: FindingAction;
  certainty: Certainty;
  /** Exact field path in the object, e.g. spec.ingress[0].from[1].ipBlock */
  path: string;
  message: string;
  fix: string;
}

/** An object the apiserver itself would reject: reported instead of evaluated. */
export interface InputError {
  path: string;
  message: string;
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
}

export interface NetworkPolicy {
  apiVersion: string;
  kind: "NetworkPolicy";
  metadata: ObjectMeta;
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ("Ingress" | "Egress")[];
    ingress?: NetworkPolicyIngressRule[];
    egress?: NetworkPolicyEgressRule[];
  };
}

export interface Namespace {
  apiVersion: string;
  kind: "Namespace";
  metadata: ObjectMeta;
}

/** What the live cluster knows that the object alone does not tell. Absent in offline checks. */
export interface ClusterFacts {
  /** Names of the namespaces that exist in this cluster. */
  localNamespaces?: ReadonlySet<string>;
  /** Namespaces being deleted (metadata.deletionTimestamp set), from the controller's namespace cache. */
  terminatingNamespaces?: ReadonlySet<string>;
}
