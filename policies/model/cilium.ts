/**
 * cilium.io/v2 CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy in the model (github.com/cilium/cilium
 * pkg/policy/api: rule.go, ingress.go, egress.go, selector.go). The L3 fields of one rule (fromEndpoints,
 * fromCIDR, fromCIDRSet, fromEntities, ...) are alternatives; toPorts narrows them all.
 */
import type { LabelSelector } from "../selectors.js";
import { fieldPath, type PathSegment } from "../path.js";
import type { Direction } from "../topology.js";
import { addressMatch, hostCidr } from "./address.js";
import type { PeerView, PolicyModel, PortView, RuleAction, RuleView, SelectorMatch } from "./policy.js";
import { labelSelectorView } from "./selector.js";

interface CidrRule {
  cidr?: string;
  except?: string[];
}
interface PortRule {
  ports?: { port?: string; protocol?: string; endPort?: number }[];
}
type CiliumRule = Record<string, unknown> & { toPorts?: PortRule[] };
export interface CiliumSpec {
  endpointSelector?: LabelSelector;
  nodeSelector?: LabelSelector;
  ingress?: CiliumRule[];
  ingressDeny?: CiliumRule[];
  egress?: CiliumRule[];
  egressDeny?: CiliumRule[];
}
export interface CiliumPolicy {
  kind: "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy";
  metadata: { name?: string; namespace?: string };
  spec?: CiliumSpec;
  specs?: CiliumSpec[];
}

export const CILIUM_NAMESPACE_LABEL = "io.kubernetes.pod.namespace";
export const CILIUM_CLUSTER_LABEL = "io.cilium.k8s.policy.cluster";
const NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels.";
const NAME_LABEL = "kubernetes.io/metadata.name";

/** Selector keys without their source: "k8s:app" and "any:app" select the Kubernetes label app. */
const bareKey = (key: string): string => key.replace(/^(k8s|any):/, "");

/** Where a Cilium endpoint label comes from, when it describes the endpoint's namespace or cluster. */
function namespaceKey(key: string, clusterLabel: string): string | undefined {
  const bare = bareKey(key);
  if (bare === CILIUM_NAMESPACE_LABEL) return NAME_LABEL;
  if (bare === CILIUM_CLUSTER_LABEL) return clusterLabel;
  if (bare.startsWith(NAMESPACE_LABELS_PREFIX)) return bare.slice(NAMESPACE_LABELS_PREFIX.length);
  return undefined;
}

/** The requirements of an endpoint selector on the endpoint's namespace (and cluster), as a namespace selector. */
function namespacePart(selector: LabelSelector, clusterLabel: string, implicitNamespace: string | undefined): { selector: LabelSelector; viaCluster: boolean } {
  const matchLabels: Record<string, string> = {};
  let viaCluster = false;
  let named = false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const to = namespaceKey(key, clusterLabel);
    if (to === undefined) continue;
    matchLabels[to] = value;
    viaCluster ||= bareKey(key) === CILIUM_CLUSTER_LABEL;
    named ||= to === NAME_LABEL;
  }
  const matchExpressions = (selector.matchExpressions ?? []).flatMap((e) => {
    const to = namespaceKey(e.key, clusterLabel);
    if (to === undefined) return [];
    viaCluster ||= bareKey(e.key) === CILIUM_CLUSTER_LABEL;
    named ||= to === NAME_LABEL;
    return [{ ...e, key: to }];
  });
  // A CiliumNetworkPolicy's endpoint selectors are confined to its namespace unless they name one.
  if (!named && implicitNamespace !== undefined) matchLabels[NAME_LABEL] = implicitNamespace;
  return { selector: { matchLabels, matchExpressions }, viaCluster };
}

const L3_OPAQUE = ["Entities", "Requires", "Groups", "Nodes", "FQDNs", "Services"];

function peersOf(rule: CiliumRule, at: PathSegment[], direction: Direction, action: RuleAction, clusterLabel: string, namespace: string | undefined): PeerView[] {
  const side = direction === "ingress" ? "from" : "to";
  // Cilium: a rule with no L3 peer matches every peer on its toPorts, and nothing without them.
  const emptied = (rule.toPorts ?? []).length > 0 ? `a Cilium rule left with only \`toPorts\` ${action === "deny" ? "denies" : "allows"} all traffic on those ports` : "a Cilium rule left with no peer and no `toPorts` matches nothing";
  const base = (field: string, j: number) => ({ direction, action, path: fieldPath([...at, `${side}${field}`, j]), peersField: `${side}${field}`, emptied });
  const peers: PeerView[] = [];
  ((rule[`${side}Endpoints`] as LabelSelector[] | undefined) ?? []).forEach((selector, j) => {
    const peer = base("Endpoints", j);
    const ns = namespacePart(selector, clusterLabel, namespace);
    const namespaceSelector: SelectorMatch = { path: peer.path, selector: labelSelectorView(ns.selector, JSON.stringify(selector)), ...(ns.viaCluster ? { viaCiliumClusterLabel: true } : {}) };
    peers.push({ ...peer, namespaceSelector, podSelector: { path: peer.path, selector: labelSelectorView(selector) } });
  });
  ((rule[`${side}CIDR`] as string[] | undefined) ?? []).forEach((cidr, j) => {
    const peer = base("CIDR", j);
    peers.push({ ...peer, ipBlock: addressMatch(peer.path, `${side}CIDR`, hostCidr(cidr), [], peer.path) });
  });
  ((rule[`${side}CIDRSet`] as CidrRule[] | undefined) ?? []).forEach((set, j) => {
    const peer = base("CIDRSet", j);
    // A cidrGroupRef or cidrGroupSelector names addresses held elsewhere: an alternative whose addresses are unknown.
    if (set.cidr === undefined) return peers.push(peer);
    peers.push({ ...peer, ipBlock: addressMatch(peer.path, `${side}CIDRSet`, hostCidr(set.cidr), (set.except ?? []).map(hostCidr), `${peer.path}.except`) });
  });
  for (const field of L3_OPAQUE) ((rule[`${side}${field}`] as unknown[] | undefined) ?? []).forEach((_, j) => peers.push(base(field, j)));
  return peers;
}

function portsOf(rule: CiliumRule, at: PathSegment[]): PortView[] {
  return (rule.toPorts ?? []).flatMap((portRule, j) =>
    (portRule.ports ?? []).flatMap((p, k): PortView[] => {
      if (p.port === undefined || p.port === "" || p.port === "0") return [];
      return [{ path: fieldPath([...at, "toPorts", j, "ports", k, "port"]), port: p.port, named: !/^\d+$/.test(p.port) }];
    }),
  );
}

const RULE_LISTS = [
  ["ingress", "ingress", "allow"],
  ["ingressDeny", "ingress", "deny"],
  ["egress", "egress", "allow"],
  ["egressDeny", "egress", "deny"],
] as const;

/** A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy that its CRD's schema accepts, in the model. */
export function ciliumModel(policy: CiliumPolicy, clusterLabel: string): PolicyModel {
  const namespace = policy.kind === "CiliumNetworkPolicy" ? policy.metadata.namespace : undefined;
  const specs: [PathSegment[], CiliumSpec][] = [
    ...(policy.spec ? [[["spec"], policy.spec] as [PathSegment[], CiliumSpec]] : []),
    ...(policy.specs ?? []).map((s, i): [PathSegment[], CiliumSpec] => [["specs", i], s]),
  ];
  const rules: RuleView[] = [];
  const subjects: SelectorMatch[] = [];
  for (const [at, spec] of specs) {
    if (spec.endpointSelector) subjects.push({ path: fieldPath([...at, "endpointSelector"]), selector: labelSelectorView(spec.endpointSelector) });
    if (spec.nodeSelector) subjects.push({ path: fieldPath([...at, "nodeSelector"]), selector: labelSelectorView(spec.nodeSelector) });
    for (const [list, direction, action] of RULE_LISTS) {
      (spec[list] ?? []).forEach((rule, i) => {
        const path: PathSegment[] = [...at, list, i];
        rules.push({ direction, path: fieldPath(path), action, peers: peersOf(rule, path, direction, action, clusterLabel, namespace), ports: portsOf(rule, path) });
      });
    }
  }
  return {
    kind: policy.kind,
    namespace,
    name: policy.metadata.name,
    enforcer: "cilium",
    subjects,
    rules,
    syntax: {
      address: (cidr, direction) => `${direction === "ingress" ? "fromCIDR" : "toCIDR"} ${cidr}`,
      selectorPeer: "a fromEndpoints/toEndpoints selector",
      except: "an except list (a fromCIDR/toCIDR entry becomes a CIDRSet with except)",
    },
  };
}
