/**
 * One model for the three policy syntaxes (NetworkPolicy, Cilium, Calico): who is selected, each rule's direction
 * and action, its peers as address sets or selectors, its ports, each with the exact field it came from. The rules
 * read only this model, so each stays one module; findings still name the field of the object as written.
 */
import type { AddressSet } from "../net/address-set.js";
import type { Cidr } from "../net/cidr.js";
import type { Direction } from "../topology.js";
import type { PeerSelector } from "./selector.js";

export type PolicyKind = "NetworkPolicy" | "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy" | "CalicoNetworkPolicy" | "CalicoGlobalNetworkPolicy";

/** Allow: a dead peer drops what it meant to allow. Deny: a dead peer lets through what it meant to block. Pass: hands traffic to the next tier. */
export type RuleAction = "allow" | "deny" | "pass";

/** Which CNI enforces the kind: Cilium and Calico kinds are enforced by their own CNI only; NetworkPolicy by whatever the cluster runs. */
export type Enforcer = "cilium" | "calico" | undefined;

/** An address constraint: a cidr minus its exceptions, under every reading of how it is written. */
export interface AddressMatch {
  /** Field of the cidr, e.g. spec.ingress[0].from[1].ipBlock, specs[0].egress[0].toCIDRSet[2], spec.egress[0].destination.nets[1]. */
  readonly path: string;
  /** The field name, as messages call the element: ipBlock, toCIDR, fromCIDRSet, nets. */
  readonly noun: string;
  readonly cidr: Cidr;
  readonly except: readonly string[];
  /** Field of the exceptions (ipBlock.except, toCIDRSet[i].except, notNets). */
  readonly exceptPath: string;
  readonly range: AddressSet;
}

export interface SelectorMatch {
  readonly path: string;
  readonly selector: PeerSelector;
  /** Cilium's io.cilium.k8s.policy.cluster label, read as the namespace's cluster label: rests on Cilium's cluster-name. */
  readonly viaCiliumClusterLabel?: boolean;
}

/** One alternative of a rule's peers: it matches when every constraint it has matches. */
export interface PeerView {
  readonly direction: Direction;
  /** The element that matches nothing when any constraint cannot match, e.g. spec.ingress[0].from[1]. */
  readonly path: string;
  readonly action: RuleAction;
  /** The list the element sits in, as advice names it: from, to, toCIDR, source.nets. */
  readonly peersField: string;
  /** What the rule matches once its last peer is gone, where that is not "all traffic" (Cilium). */
  readonly emptied?: string;
  readonly ipBlock?: AddressMatch;
  readonly namespaceSelector?: SelectorMatch;
  readonly podSelector?: SelectorMatch;
}

export interface PortView {
  /** Field of the port value, e.g. spec.egress[0].ports[1].port, spec.egress[0].destination.ports[0]. */
  readonly path: string;
  /** A number, a range text, or a name. */
  readonly port: number | string;
  readonly named: boolean;
}

export interface RuleView {
  readonly direction: Direction;
  /** e.g. spec.egress[2], specs[0].egressDeny[1] */
  readonly path: string;
  readonly action: RuleAction;
  /** Empty means "all peers": nothing to flag. */
  readonly peers: readonly PeerView[];
  readonly ports: readonly PortView[];
}

/** How advice writes an alternative in this kind's syntax. */
export interface Syntax {
  /** "ipBlock cidr 192.0.2.0/24", "toCIDR 192.0.2.0/24", "nets 192.0.2.0/24". */
  address(cidr: string, direction: Direction): string;
  /** The peer that selects pods: "a podSelector/namespaceSelector peer". */
  readonly selectorPeer: string;
  /** Where exceptions to an address block go, as advice names it: "this ipBlock's except", "the rule's notNets". */
  readonly except: string;
}

export interface PolicyModel {
  readonly kind: PolicyKind;
  readonly namespace?: string;
  readonly name?: string;
  readonly enforcer: Enforcer;
  /** The selectors of the endpoints the policy applies to (one per Cilium spec). */
  readonly subjects: readonly SelectorMatch[];
  readonly rules: readonly RuleView[];
  readonly syntax: Syntax;
}
