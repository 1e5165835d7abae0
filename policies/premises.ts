/**
 * The premises provable findings rest on, and how each is established from the config and the cluster facts.
 * A provable finding denies only when every premise it names holds (or, offline, is assumed); otherwise the
 * engine reports it as a warning that names the missing premise and what would establish it.
 */
import type { PolicyContext } from "./context.js";
import type { AddressSet } from "./net/address-set.js";
import type { Family } from "./net/cidr.js";
import type { PeerSelector } from "./model/selector.js";
import type { LabelState } from "./selectors.js";
import { describeObjects, undeclaredLive } from "./discovery/drift.js";
import type { ImportInfo, RemoteRanges, Topology } from "./topology.js";
import type { PremiseReport } from "./types.js";

const NAME_LABEL = "kubernetes.io/metadata.name";
/** Namespaces netguard's webhooks never see (the default of certs/webhook-configurations.ts): their labels are not guarded. */
export const WEBHOOK_EXCLUDED_NAMESPACES: readonly string[] = ["kube-system", "netguard-system"];
const familyName = (f: Family): string => `ipv${f}`;
const FAMILY_TEXT = { 4: "IPv4", 6: "IPv6" } as const;

const holds = (id: string, statement: string): PremiseReport => ({ id, status: "holds", statement });

/** The cluster's name is declared (cluster.name), not invented. */
export function clusterNameDeclared(ctx: PolicyContext): PremiseReport {
  const id = "cluster-name-declared";
  const statement = "this cluster's name is declared in cluster.name";
  if (ctx.topology.localName !== undefined) return holds(id, statement);
  return { id, status: "unknown", statement, detail: "no config declares cluster.name; would deny once a config declares this cluster's name" };
}

/**
 * Every local namespace the selector could match carries clusterLabel = cluster.name (and netguard's namespace
 * webhook guards the label). Established from the controller's namespace cache; assumed offline.
 */
export function namespacesLabelled(ctx: PolicyContext, selector: PeerSelector): PremiseReport {
  const id = "namespaces-labelled-and-guarded";
  const { clusterLabel, localName } = ctx.topology;
  const statement = `every local namespace carries ${clusterLabel}=${localName ?? "<cluster.name>"}, guarded by netguard's namespace webhook`;
  if (ctx.facts.origin === "offline") return { id, status: "assumed", statement, detail: "assumed offline: no cluster at hand to check the namespaces' labels" };
  const unlabelled = ctx.facts.namespacesNotLabelledLocal;
  if (!unlabelled) {
    return { id, status: "unknown", statement, detail: "the namespaces' labels are not known yet (namespace cache not synced); would deny once they are" };
  }
  const matched = [...unlabelled].filter(([name, value]) => canMatchNamespace(selector, clusterLabel, name, value === undefined ? { present: false } : { present: true, value }));
  if (matched.length > 0) {
    const shown = matched.slice(0, 3).map(([name, value]) => (value === undefined ? `${name} (no ${clusterLabel})` : `${name} (${clusterLabel}=${value})`));
    const more = matched.length > 3 ? ` and ${matched.length - 3} more` : "";
    return {
      id,
      status: "fails",
      statement,
      detail: `this selector matches local namespace${matched.length > 1 ? "s" : ""} ${shown.join(", ")}${more}; would deny once they carry ${clusterLabel}=${localName ?? "<cluster.name>"}`,
    };
  }
  const drifting = unguardedNamespaces(ctx).filter((name) => otherLabelStates(selector, clusterLabel, localName).some((state) => canMatchNamespace(selector, clusterLabel, name, state)));
  if (drifting.length === 0) return holds(id, statement);
  return {
    id,
    status: "unknown",
    statement,
    detail:
      `this selector would match ${drifting.join(", ")} if ${drifting.length > 1 ? "their" : "its"} ${clusterLabel} were changed or removed, and netguard's namespace webhook ` +
      "does not guard it (excluded from the webhooks, or exempt); would deny once the selector also excludes it by kubernetes.io/metadata.name",
  };
}

/**
 * Cilium's io.cilium.k8s.policy.cluster carries Cilium's own cluster-name (cilium-config), which netguard reads
 * nowhere: a selector on it proves nothing unless that name is this cluster's. Assumed offline.
 */
export function ciliumClusterNameIsClusterName(ctx: PolicyContext): PremiseReport {
  const id = "cilium-cluster-name";
  const statement = `Cilium's cluster-name (io.cilium.k8s.policy.cluster of every local endpoint) is cluster.name (${ctx.topology.localName ?? "<cluster.name>"})`;
  if (ctx.facts.origin === "offline") return { id, status: "assumed", statement, detail: "assumed offline: no cluster at hand to read Cilium's cluster-name" };
  return {
    id,
    status: "unknown",
    statement,
    detail: `netguard does not read Cilium's cluster-name from the cluster; select by the namespace label io.cilium.k8s.namespace.labels.${ctx.topology.clusterLabel} instead, which netguard guards`,
  };
}

/** `label` undefined: the cluster label in any state. */
function canMatchNamespace(selector: PeerSelector, clusterLabel: string, name: string, label: LabelState | undefined): boolean {
  const states = new Map<string, LabelState>([[NAME_LABEL, { present: true, value: name }]]);
  if (label) states.set(clusterLabel, label);
  return selector.canMatchWithAll(states);
}

/** The namespaces whose labels nobody guards: excluded from netguard's webhooks, and (to be safe) the exempt ones. */
const unguardedNamespaces = (ctx: PolicyContext): string[] => [...new Set([...WEBHOOK_EXCLUDED_NAMESPACES, ...ctx.loaded.config.exemptNamespaces])];

/**
 * Every state of the cluster label other than the local one, as far as the selector can tell them apart; when it
 * tells values apart by more than equality (Calico's contains, starts with), the label free (the local value too).
 */
function otherLabelStates(selector: PeerSelector, clusterLabel: string, localName: string | undefined): (LabelState | undefined)[] {
  const mentioned = selector.mentionedValues(clusterLabel);
  if (mentioned === undefined) return [undefined];
  // A value no selector term names stands for every such value; it cannot be the local name, which is named or not.
  const fresh = `${[...mentioned, localName ?? ""].join("")}-other`;
  return [{ present: false }, ...[...new Set([...mentioned, fresh])].filter((v) => v !== localName).map((value): LabelState => ({ present: true, value }))];
}

/**
 * A named port matches only the endpoints that carry a port of that name, so an ipBlock peer naming no endpoint
 * never matches it. A CNI semantic: Calico gives it; Cilium applies the number resolved from local pods to every
 * peer (ipBlocks included), so under Cilium it fails; generic: unknown.
 */
export function namedPortsPerEndpoint(ctx: PolicyContext): PremiseReport {
  const id = "named-ports-per-endpoint";
  const statement = "the CNI matches a named port only on endpoints that carry a port of that name (cluster.cni: calico)";
  // A Calico or Cilium kind is enforced by its own CNI, whatever the config says.
  const cni = ctx.model.enforcer ?? ctx.loaded.config.cluster.cni;
  const detected = ctx.model.enforcer ?? ctx.facts.detectedCni;
  if (detected !== undefined && cni !== "generic" && detected !== cni) {
    return { id, status: "unknown", statement, detail: `cluster.cni says ${cni}, but the cluster's CRDs are ${detected}'s; would deny once the two agree on calico` };
  }
  if (cni === "calico") return holds(id, statement);
  if (cni === "cilium") {
    return { id, status: "fails", statement, detail: "Cilium resolves a named port against the local pods and applies the number to every peer of the rule, ipBlocks included" };
  }
  return { id, status: "unknown", statement, detail: "cluster.cni is generic, so the CNI's named-port semantics are unknown; would deny once cluster.cni declares calico" };
}

const memo = new WeakMap<Topology, Map<string, unknown>>();
/**
 * A premise that depends only on the topology, computed once per topology (a loaded config's lives as long as the
 * config): an audit asks the same ones for every policy, a large policy for every peer. Reports are never mutated.
 */
export function perTopology<T>(topology: Topology, key: string, make: () => T): T {
  let byKey = memo.get(topology);
  if (!byKey) memo.set(topology, (byKey = new Map()));
  if (!byKey.has(key)) byKey.set(key, make());
  return byKey.get(key) as T;
}

function rangesDeclared(id: string, statement: string, set: AddressSet, family: Family, field: string, what: string, imported?: ImportInfo): PremiseReport {
  const key = field.slice(field.lastIndexOf(".") + 1);
  if (imported?.stale && imported.fields.includes(key) && set.families().includes(family)) {
    return { id, status: "unknown", statement, detail: `${field} comes from a descriptor read ${imported.ageSeconds} s ago (stale after ${imported.maxAgeSeconds} s); would deny once it is read again or \`${field}\` is declared` };
  }
  if (set.families().includes(family)) return holds(id, statement);
  return { id, status: "unknown", statement, detail: `${field} declares no ${FAMILY_TEXT[family]} range; would deny once \`${field}\` declares the ${FAMILY_TEXT[family]} ${what}` };
}

/** This cluster's pod or node ranges of `family` are declared: undeclared means unknown, never empty. */
export function localRangesDeclared(ctx: PolicyContext, kind: "pod" | "node", family: Family): PremiseReport {
  return perTopology(ctx.topology, `local:${kind}:${family}`, () => {
    const set = kind === "pod" ? ctx.topology.local.pods : ctx.topology.local.nodes;
    const field = kind === "pod" ? "cluster.podCIDRs" : "cluster.nodeCIDRs";
    return rangesDeclared(`local-${kind}-ranges-declared:${familyName(family)}`, `this cluster's ${FAMILY_TEXT[family]} ${kind} ranges are declared`, set, family, field, `${kind} range`);
  });
}

const REMOTE_SETS = { pod: "pods", service: "services", node: "nodes" } as const;

/** A remote's pod, service or node ranges of `family` are declared. */
export function remoteRangesDeclared(ctx: PolicyContext, remote: RemoteRanges, kind: keyof typeof REMOTE_SETS, family: Family): PremiseReport {
  return perTopology(ctx.topology, `remote:${remote.remote.name}:${kind}:${family}`, () => {
    const name = remote.remote.name;
    const set = remote[REMOTE_SETS[kind]];
    const field = `remoteClusters[${ctx.topology.remotes.indexOf(remote)}].${kind}CIDRs`;
    return rangesDeclared(`remote-${kind}-ranges-declared:${name}:${familyName(family)}`, `${name}'s ${FAMILY_TEXT[family]} ${kind} ranges are declared`, set, family, field, `${kind} range of ${name}`, remote.imported);
  });
}

/**
 * A `nat` remote's translated addresses of `family` are declared: the sources its traffic arrives from
 * (natSourceCIDRs, ingress) or the addresses pods here dial it at (exposedCIDRs, egress).
 */
export function natAddressesDeclared(ctx: PolicyContext, remote: RemoteRanges, direction: "ingress" | "egress", family: Family): PremiseReport {
  return perTopology(ctx.topology, `nat:${remote.remote.name}:${direction}:${family}`, () => {
    const name = remote.remote.name;
    const [set, key, kind, what] =
      direction === "ingress" ? ([remote.natSources, "natSourceCIDRs", "nat-source", "NAT source"] as const) : ([remote.exposed, "exposedCIDRs", "exposed", "exposed"] as const);
    const field = `remoteClusters[${ctx.topology.remotes.indexOf(remote)}].${key}`;
    return rangesDeclared(`remote-${kind}-ranges-declared:${name}:${familyName(family)}`, `${name}'s ${FAMILY_TEXT[family]} ${what} addresses are declared`, set, family, field, `${what} range of ${name}`, remote.imported);
  });
}

/** The premises that every address of `range` belongs to no local pod or node, in each family of `range`. */
export function localAddressesKnown(ctx: PolicyContext, range: AddressSet): PremiseReport[] {
  return [...range.families().flatMap((f) => [localRangesDeclared(ctx, "pod", f), localRangesDeclared(ctx, "node", f)]), ...liveRangesDeclared(ctx, range)];
}

/**
 * No address of `range` is in a local range the live cluster uses but the config does not declare (discovered by
 * the leader: policies/discovery). Without a live topology the declared ranges are taken as they are.
 */
export function liveRangesDeclared(ctx: PolicyContext, range: AddressSet): PremiseReport[] {
  const live = ctx.facts.liveTopology;
  if (!live) return [];
  const id = "live-ranges-declared";
  const statement = "no address here is in a pod, service or node range the live cluster uses and the config does not declare";
  const hit = undeclaredLive(ctx.loaded.config, live).filter((u) => u.part.overlaps(range));
  if (hit.length === 0) return [holds(id, statement)];
  const shown = hit.slice(0, 2).map(({ range: r, part }) => `${part.intersect(range).toCidrs().slice(0, 3).join(", ")} (${r.kind}s, ${describeObjects(r)}), undeclared in cluster.${r.kind}CIDRs`);
  return [{ id, status: "fails", statement, detail: `the live cluster uses ${shown.join("; ")}${hit.length > 2 ? ` and ${hit.length - 2} more` : ""}; would deny once the config declares them and this block no longer names them` }];
}

/** A remote whose ranges came from its descriptor: that descriptor was read within its maxAgeSeconds. */
export function descriptorCurrent(remote: RemoteRanges): PremiseReport[] {
  const info = remote.imported;
  if (!info || info.fields.length === 0) return [];
  const id = `remote-descriptor-current:${remote.remote.name}`;
  const statement = `${remote.remote.name}'s descriptor, which ${info.fields.join(", ")} come from, is current`;
  if (!info.stale) return [holds(id, statement)];
  return [{ id, status: "unknown", statement, detail: `last read ${info.ageSeconds} s ago, more than its maxAgeSeconds ${info.maxAgeSeconds}; would deny once it is read again` }];
}

type NamespaceLike = { metadata?: { name?: string; labels?: Record<string, string> } };

/** Whether a namespace carries clusterLabel = the declared cluster name (never, when no name is declared). */
export const isLabelledLocal = (ns: NamespaceLike, clusterLabel: string, clusterName: string | undefined): boolean =>
  clusterName !== undefined && ns.metadata?.labels?.[clusterLabel] === clusterName;

/** ClusterFacts.namespacesNotLabelledLocal from a full list of namespaces (an audit's snapshot). */
export function namespacesNotLabelledLocal(namespaces: readonly NamespaceLike[], clusterLabel: string, clusterName: string | undefined): Map<string, string | undefined> {
  const map = new Map<string, string | undefined>();
  for (const ns of namespaces) {
    if (ns.metadata?.name && !isLabelledLocal(ns, clusterLabel, clusterName)) map.set(ns.metadata.name, ns.metadata.labels?.[clusterLabel]);
  }
  return map;
}

/** ClusterFacts.namespaceLabels from a list of Namespaces (a namespace without labels maps to {}). */
export function namespaceLabelsOf(namespaces: readonly NamespaceLike[]): Map<string, Readonly<Record<string, string>>> {
  return new Map(namespaces.flatMap((ns) => (ns.metadata?.name ? [[ns.metadata.name, ns.metadata.labels ?? {}] as const] : [])));
}

/** True when a finding resting on these premises may keep a deny. */
export const premisesMet = (premises: readonly PremiseReport[]): boolean => premises.every((p) => p.status === "holds" || p.status === "assumed");
