import type { LiveTopology } from "./discovery/live.js";
import type { PeerFacts } from "./discovery/import.js";
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
  /** Set when the kind alone is ambiguous (Calico's projectcalico.org/v3 NetworkPolicy). */
  apiVersion?: string;
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
  /** The premises a provable finding rests on, each with how it was established. Absent for likely rules and guardrails. */
  premises?: PremiseReport[];
  /** The GuardrailException that turned this denial into a warning. */
  waivedBy?: string;
}

/**
 * holds: established from the config or the cluster facts. assumed: a cluster-state premise taken on trust
 * (offline `netguard check`). unknown: nothing declares it either way. fails: known not to hold.
 * A provable finding denies only when every premise holds or is assumed.
 */
export type PremiseStatus = "holds" | "assumed" | "unknown" | "fails";

export interface PremiseReport {
  /** Stable id, e.g. cluster-name-declared, local-pod-ranges-declared:ipv6, remote-node-ranges-declared:aws-east */
  id: string;
  status: PremiseStatus;
  /** What the premise states, in one sentence. */
  statement: string;
  /** When it does not hold: why, and what would establish it (e.g. declare the IPv6 pod range in cluster.podCIDRs). */
  detail?: string;
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

/** What the live cluster knows that the object alone does not tell. */
export interface ClusterFacts {
  /** Names of the namespaces that exist in this cluster. */
  localNamespaces?: ReadonlySet<string>;
  /**
   * "offline": `netguard check`: cluster-state premises are assumed (and reported as assumed).
   * "cluster" or absent: cluster-state premises must be established from the facts below; missing = unknown.
   */
  origin?: "cluster" | "offline";
  /**
   * Local namespaces whose clusterLabel is absent or not this cluster's name: name -> value (undefined = absent).
   * Undefined = unknown (cache not synced). An empty map = every namespace carries clusterLabel=cluster.name.
   */
  namespacesNotLabelledLocal?: ReadonlyMap<string, string | undefined>;
  /** CNI recognised from the cluster's CRDs by the controller, when it could tell. */
  detectedCni?: "calico" | "cilium";
  /** Namespaces being deleted (metadata.deletionTimestamp set), from the controller's namespace cache. */
  terminatingNamespaces?: ReadonlySet<string>;
  /** Labels of the local namespaces (the namespace cache, or Namespace objects given to `check`); a missing entry is unknown. */
  namespaceLabels?: Pick<ReadonlyMap<string, Readonly<Record<string, string>>>, "get">;
  /** GuardrailExceptions in force or expired, and the time to judge them at; absent: none are known. */
  exceptions?: ExceptionFacts;
  /** This cluster's ranges as its API shows them (the leader's discovery); absent: not discovered, the declared ranges are taken as they are. */
  liveTopology?: LiveTopology;
  /** The remotes' descriptors as last imported; absent: no remote imports one. */
  peers?: PeerFacts;
}

/** A waiver of rule denials, cluster-scoped (policies/exceptions/exception.ts validates it). */
export interface GuardrailException {
  apiVersion: "netguard.dev/v1alpha1";
  kind: "GuardrailException";
  metadata: { name: string; deletionTimestamp?: string; finalizers?: string[]; [key: string]: unknown };
  spec: {
    rules: RuleId[];
    match: { namespaces?: string[]; namespaceSelector?: LabelSelector; policies?: string[] };
    reason: string;
    owner: string;
    expiresAt: string;
  };
}

/** The exceptions in the cluster (or given to `check`), and the time they are judged at. */
export interface ExceptionFacts {
  readonly items: readonly GuardrailException[];
  readonly now: Date;
}
