/**
 * projectcalico.org/v3 NetworkPolicy and GlobalNetworkPolicy (and their crd.projectcalico.org/v1 backing objects)
 * in the model. The fields of a source or destination are a conjunction; nets are alternatives, each minus notNets.
 * A Log rule changes no verdict, so it is left out; a Pass hands matching traffic to the next tier.
 */
import { fieldPath, type PathSegment } from "../path.js";
import type { Direction } from "../topology.js";
import { addressMatch, hostCidr } from "./address.js";
import { calicoCanMatchWithAll, calicoContradictoryKeys, calicoMentionedValues, calicoRequiredValues, parseCalicoSelector, type CalicoSelector } from "../kinds/calico-selector.js";
import type { PeerView, PolicyModel, PortView, RuleAction, RuleView, SelectorMatch } from "./policy.js";
import { labelSelectorView, type PeerSelector } from "./selector.js";

interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  namespaceSelector?: string;
  ports?: (number | string)[];
}
interface CalicoRule {
  action: "Allow" | "Deny" | "Log" | "Pass";
  source?: EntityRule;
  destination?: EntityRule;
}
export interface CalicoPolicy {
  kind: "NetworkPolicy" | "GlobalNetworkPolicy";
  metadata: { name?: string; namespace?: string };
  spec?: { selector?: string; namespaceSelector?: string; ingress?: CalicoRule[]; egress?: CalicoRule[] };
}

const NAME_LABEL = "kubernetes.io/metadata.name";
/** Calico labels every namespace with its name under this key as well. */
const CALICO_NAME_LABEL = "projectcalico.org/name";
const ACTIONS: Record<CalicoRule["action"], RuleAction | undefined> = { Allow: "allow", Deny: "deny", Pass: "pass", Log: undefined };

/** A parsed Calico selector; callers validated the text, so a parse failure is a bug. */
export function calicoSelector(text: string, at: string): CalicoSelector {
  const parsed = parseCalicoSelector(text);
  if ("error" in parsed) throw new Error(`${at} was not validated: ${parsed.error}`);
  return parsed.selector;
}

function endpointView(text: string, selector: CalicoSelector): PeerSelector {
  return {
    text,
    canMatchWithAll: (states) => calicoCanMatchWithAll(selector, states),
    requiredValues: (key) => calicoRequiredValues(selector, key),
    contradictoryKeys: () => calicoContradictoryKeys(selector),
    mentionedValues: (key) => calicoMentionedValues(selector, key),
  };
}

/** A namespace selector: the namespace's name is readable under both kubernetes.io/metadata.name and projectcalico.org/name. */
function namespaceView(text: string, selector: CalicoSelector): PeerSelector {
  const view = endpointView(text, selector);
  return {
    ...view,
    canMatchWithAll: (states) => {
      const name = states.get(NAME_LABEL);
      return view.canMatchWithAll(name ? new Map([...states, [CALICO_NAME_LABEL, name]]) : states);
    },
    requiredValues: (key) => view.requiredValues(key) ?? (key === NAME_LABEL ? view.requiredValues(CALICO_NAME_LABEL) : undefined),
  };
}

function peersOf(entity: EntityRule | undefined, at: PathSegment[], direction: Direction, action: RuleAction, ownNamespace: string | undefined): PeerView[] {
  if (!entity) return [];
  // Calico reads an empty selector or namespaceSelector as one not given.
  entity = { ...entity, selector: entity.selector || undefined, namespaceSelector: entity.namespaceSelector || undefined };
  const path = fieldPath(at);
  const selectors: { namespaceSelector?: SelectorMatch; podSelector?: SelectorMatch } = {};
  if (entity.namespaceSelector !== undefined) {
    const p = `${path}.namespaceSelector`;
    selectors.namespaceSelector = { path: p, selector: namespaceView(entity.namespaceSelector, calicoSelector(entity.namespaceSelector, p)) };
  } else if (ownNamespace !== undefined && entity.selector !== undefined) {
    // In a namespaced policy a selector without namespaceSelector selects endpoints of the policy's own namespace.
    selectors.namespaceSelector = { path: `${path}.selector`, selector: labelSelectorView({ matchLabels: { [NAME_LABEL]: ownNamespace } }) };
  }
  if (entity.selector !== undefined) {
    const p = `${path}.selector`;
    selectors.podSelector = { path: p, selector: endpointView(entity.selector, calicoSelector(entity.selector, p)) };
  }
  const peersField = direction === "ingress" ? "source" : "destination";
  const nets = entity.nets ?? [];
  if (nets.length === 0) return entity.selector !== undefined || entity.namespaceSelector !== undefined ? [{ direction, action, path, peersField, ...selectors }] : [];
  const notNets = (entity.notNets ?? []).map(hostCidr);
  return nets.map((net, j) => {
    const p = fieldPath([...at, "nets", j]);
    return { direction, action, path: p, peersField, ...selectors, ipBlock: addressMatch(p, "nets", hostCidr(net), notNets, `${path}.notNets`) };
  });
}

const portsOf = (entity: EntityRule | undefined, at: PathSegment[]): PortView[] =>
  (entity?.ports ?? []).map((port, j) => ({ path: fieldPath([...at, "ports", j]), port, named: typeof port === "string" && !/^\d+(:\d+)?$/.test(port) }));

/** A Calico NetworkPolicy (namespaced) or GlobalNetworkPolicy whose schema and selectors are valid, in the model. */
export function calicoModel(policy: CalicoPolicy): PolicyModel {
  const global = policy.kind === "GlobalNetworkPolicy";
  const namespace = global ? undefined : policy.metadata.namespace;
  const spec = policy.spec ?? {};
  const rules: RuleView[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    (spec[direction] ?? []).forEach((rule, i) => {
      const action = ACTIONS[rule.action];
      if (action === undefined) return;
      const at: PathSegment[] = ["spec", direction, i];
      const [peerSide, peerField] = direction === "ingress" ? [rule.source, "source"] : [rule.destination, "destination"];
      rules.push({
        direction,
        path: fieldPath(at),
        action,
        peers: peersOf(peerSide, [...at, peerField], direction, action, namespace),
        ports: portsOf(rule.destination, [...at, "destination"]),
      });
    });
  }
  const subjects: SelectorMatch[] = [];
  for (const field of ["selector", "namespaceSelector"] as const) {
    const text = spec[field];
    if (text !== undefined) subjects.push({ path: `spec.${field}`, selector: endpointView(text, calicoSelector(text, `spec.${field}`)) });
  }
  return {
    kind: global ? "CalicoGlobalNetworkPolicy" : "CalicoNetworkPolicy",
    namespace,
    name: policy.metadata.name,
    enforcer: "calico",
    subjects,
    rules,
    syntax: { address: (cidr) => `nets ${cidr}`, selectorPeer: "a selector/namespaceSelector", except: "the rule's notNets" },
  };
}
