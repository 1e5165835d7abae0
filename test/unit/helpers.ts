/**
 * Shared fixtures for the engine's unit tests: the multicloud topology of DESIGN.md §4,
 * a NetworkPolicy builder, and small accessors over evaluation results.
 */
import { evaluatePolicy, loadConfig, type LoadedConfig, type PolicyEvaluation } from "../../policies/index.js";
import type { Rule } from "../../policies/rules/rule.js";
import type { ClusterFacts, Finding, IPBlock, NetworkPolicyPeer, NetworkPolicyPort } from "../../policies/types.js";

export type Doc = Record<string, unknown>;

/**
 * gcp-west (local, Calico, dual-stack ranges declared) with three remotes:
 * - aws-east: nat, with NAT sources, exposed addresses and known namespaces;
 * - azure-north: routed, pod IPs preserved (snatToNodes false);
 * - onprem-south: routed, but pod sources rewritten to node IPs (snatToNodes true).
 */
export function multicloudDocument(): Doc {
  return {
    apiVersion: "netguard.dev/v1alpha1",
    kind: "GuardrailConfig",
    cluster: {
      name: "gcp-west",
      cni: "calico",
      podCIDRs: ["10.8.0.0/14", "fd00:8::/56"],
      serviceCIDRs: ["10.12.0.0/20"],
      nodeCIDRs: ["10.0.0.0/20", "fd00::/64"],
    },
    remoteClusters: [
      {
        name: "aws-east",
        connectivity: "nat",
        podCIDRs: ["10.100.0.0/16", "fd00:100::/56"],
        serviceCIDRs: ["10.101.0.0/20"],
        nodeCIDRs: ["10.102.0.0/20"],
        natSourceCIDRs: ["203.0.113.10/32"],
        exposedCIDRs: ["198.51.100.0/28"],
        namespaces: ["payments", "ledger"],
      },
      {
        name: "azure-north",
        connectivity: "routed",
        podCIDRs: ["10.200.0.0/16", "fd00:200::/56"],
        nodeCIDRs: ["10.201.0.0/20", "fd00:201::/64"],
        snatToNodes: false,
      },
      {
        name: "onprem-south",
        connectivity: "routed",
        podCIDRs: ["10.210.0.0/16", "fd00:210::/56"],
        nodeCIDRs: ["10.211.0.0/20", "fd00:211::/64"],
        snatToNodes: true,
      },
    ],
  };
}

/** Loads a config document and fails loudly (with every problem) when it is rejected. */
export function load(document: unknown): LoadedConfig {
  const result = loadConfig(document);
  if (!result.ok) throw new Error(`fixture config rejected: ${JSON.stringify(result.problems)}`);
  return result.loaded;
}

/** The multicloud fixture, optionally adjusted (e.g. to change rule actions or policyScope). */
export function multicloud(adjust?: (doc: Doc) => void): LoadedConfig {
  const doc = multicloudDocument();
  adjust?.(doc);
  return load(doc);
}

export const fixture: LoadedConfig = multicloud();

/** The multicloud fixture with aws-east's IPv6 NAT addresses and the routed remotes' service ranges declared too. */
export const multicloudFullyDeclared: LoadedConfig = multicloud((d) => {
  const [aws, azure, onprem] = d.remoteClusters as Doc[];
  aws!.natSourceCIDRs = ["203.0.113.10/32", "2001:db8:113::10/128"];
  aws!.exposedCIDRs = ["198.51.100.0/28", "2001:db8:100::/124"];
  azure!.serviceCIDRs = ["10.202.0.0/20", "fd00:202::/108"];
  onprem!.serviceCIDRs = ["10.212.0.0/20", "fd00:212::/108"];
});

/** The multicloud fixture under another policyScope (cilium-clustermesh runs Cilium, so its cni follows). */
export const withScope = (scope: string): LoadedConfig =>
  multicloud((d) => {
    const cluster = d.cluster as Record<string, unknown>;
    cluster.policyScope = scope;
    if (scope === "cilium-clustermesh") cluster.cni = "cilium";
  });

export interface PolicyOptions {
  name?: string;
  namespace?: string;
  podSelector?: unknown;
  ingress?: unknown[];
  egress?: unknown[];
  policyTypes?: string[];
}

/** A NetworkPolicy object (as a decoded admission request would carry it). */
export function policy(options: PolicyOptions = {}): Doc {
  const spec: Doc = { podSelector: options.podSelector ?? {} };
  if (options.policyTypes) spec.policyTypes = options.policyTypes;
  if (options.ingress) spec.ingress = options.ingress;
  if (options.egress) spec.egress = options.egress;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: options.name ?? "test", namespace: options.namespace ?? "web" },
    spec,
  };
}

export const ipBlock = (cidr: string, except?: string[]): NetworkPolicyPeer => ({ ipBlock: except ? ({ cidr, except } as IPBlock) : { cidr } });

/** As an UPDATE carries it: the apiserver sets the stored resourceVersion before validation and admission. */
export const stored = (doc: Doc): Doc => ({ ...doc, metadata: { ...(doc.metadata as Doc), resourceVersion: "1" } });

/** A policy with one ingress rule whose `from` is `peers`. */
export const ingressFrom = (peers: unknown[], ports?: NetworkPolicyPort[], options: PolicyOptions = {}): Doc =>
  policy({ ...options, ingress: [ports ? { from: peers, ports } : { from: peers }] });

/** A policy with one egress rule whose `to` is `peers`. */
export const egressTo = (peers: unknown[], ports?: NetworkPolicyPort[], options: PolicyOptions = {}): Doc =>
  policy({ ...options, egress: [ports ? { to: peers, ports } : { to: peers }] });

/** Cluster facts in which every local namespace carries the cluster label: the label premise holds. */
export const labelledCluster: ClusterFacts = { namespacesNotLabelledLocal: new Map() };

/** Evaluates and insists the object was valid input and no rule crashed. */
export function evaluate(object: unknown, loaded: LoadedConfig = fixture, facts: ClusterFacts = labelledCluster, candidates?: readonly Rule[]): PolicyEvaluation {
  const result = evaluatePolicy(object, loaded, facts, candidates);
  if (result.inputErrors.length > 0) throw new Error(`unexpected input errors: ${JSON.stringify(result.inputErrors)}`);
  if (!candidates && result.ruleFailures.length > 0) throw new Error(`rules failed: ${JSON.stringify(result.ruleFailures)}`);
  return result;
}

/** Findings of one rule for `object`. */
export function findingsOf(rule: string, object: unknown, loaded: LoadedConfig = fixture, facts: ClusterFacts = labelledCluster): Finding[] {
  return evaluate(object, loaded, facts).findings.filter((f) => f.rule === rule);
}

/** Whether `rule` stays silent on `object`: `const silent = silentFor(RULE)` in a rule's tests. */
export const silentFor =
  (rule: string) =>
  (object: unknown, loaded?: LoadedConfig, facts?: ClusterFacts): boolean =>
    findingsOf(rule, object, loaded, facts).length === 0;

/** The single finding of `rule`; throws when there is none or more than one. */
export function only(rule: string, object: unknown, loaded: LoadedConfig = fixture, facts: ClusterFacts = labelledCluster): Finding {
  const found = findingsOf(rule, object, loaded, facts);
  if (found.length !== 1) throw new Error(`expected exactly one ${rule} finding, got ${JSON.stringify(found, null, 2)}`);
  return found[0]!;
}

export const NO_PEER_SENTENCE = (rulePath: string): string => `No peer of ${rulePath} can match`;
