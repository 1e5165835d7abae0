import type { LabelSelector } from "../selectors.js";
import type { RuleAction, RuleId } from "../types.js";

export type Connectivity = "nat" | "routed";
export type PolicyScope = "local-only" | "cilium-clustermesh" | "calico-federation";

export interface ClusterRanges {
  podCIDRs: string[];
  serviceCIDRs: string[];
  nodeCIDRs: string[];
}

/** Whose semantics the provable rules may take as premises; generic: no CNI-specific premise holds. */
export type Cni = "generic" | "calico" | "cilium";

export interface LocalCluster extends ClusterRanges {
  /** Undefined only in the built-in default (no config): then no rule that rests on the cluster name denies. */
  name?: string;
  policyScope: PolicyScope;
  /** Filled by loadConfig: cilium when policyScope is cilium-clustermesh, otherwise generic, unless declared. */
  cni: Cni;
  /** What this cluster's descriptor tells its peers (its NAT gateways, its exposed addresses); no local rule reads them. */
  natSourceCIDRs: string[];
  exposedCIDRs: string[];
}

/** Where a remote's published descriptor is read from (a kubeconfig in a Secret of netguard's namespace). */
export interface DescriptorSource {
  secretName: string;
  key: string;
  namespace: string;
  maxAgeSeconds: number;
}

export interface RemoteCluster extends ClusterRanges {
  name: string;
  connectivity: Connectivity;
  natSourceCIDRs: string[];
  exposedCIDRs: string[];
  snatToNodes: boolean;
  namespaces: string[];
  descriptorFrom?: DescriptorSource;
}

export interface PeerPort {
  protocol: "TCP" | "UDP" | "SCTP";
  port: number;
}

export interface BaselineConfig {
  enabled: boolean;
  name: string;
  egress: "dns-only" | "allow-all";
  dns: { namespaceSelector: LabelSelector; podSelector: LabelSelector; ports: PeerPort[] };
  optOutLabel: string;
}

/** The platform team's configuration, with every default filled in. */
export interface GuardrailConfig {
  apiVersion: "netguard.dev/v1alpha1";
  kind: "GuardrailConfig";
  mode: "enforce" | "audit";
  cluster: LocalCluster;
  remoteClusters: RemoteCluster[];
  clusterLabel: string;
  privilegedGroups: string[];
  exemptNamespaces: string[];
  baseline: BaselineConfig;
  rules: RuleActions;
  /** Ordered: per rule, the first override whose namespaceSelector matches the object's namespace and names the rule decides. */
  ruleOverrides: RuleOverride[];
  exceptions: { maxDays: number };
}

export type RuleActions = Partial<Record<RuleId, RuleAction>>;

export interface RuleOverride {
  namespaceSelector: LabelSelector;
  rules: RuleActions;
}

export interface ConfigProblem {
  /** Where in the document, e.g. remoteClusters[0].podCIDRs[1]; empty for a problem of the text itself (YAML syntax). */
  path: string;
  message: string;
  /** The line in the config text, once the text is known (the reader adds it; the pure checks cannot). */
  line?: number;
}
