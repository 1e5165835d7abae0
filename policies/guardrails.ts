import { canonicalJson, isManagedPolicy, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NETGUARD_FIELD_MANAGER, optOutLabel } from "./baseline.js";
import type { GuardrailConfig } from "./config/types.js";
import { fieldPath } from "./path.js";
import type { ClusterFacts, Finding, ObjectMeta } from "./types.js";

/** Guardrails on Namespaces and netguard's own objects; not configurable per rule, always deny. */
export type GuardrailId = "reserved-cluster-label" | "baseline-opt-out" | "managed-baseline";

export interface UserInfo {
  username?: string;
  groups?: string[];
}

export interface JsonPatchOp {
  op: "add" | "replace" | "remove";
  path: string;
  value?: unknown;
}

type Labelled = { metadata?: ObjectMeta } | undefined;

const labelsOf = (o: Labelled): Record<string, string> => o?.metadata?.labels ?? {};
const escapePointer = (s: string): string => s.replace(/~/g, "~0").replace(/\//g, "~1");

export function isPrivileged(user: UserInfo | undefined, config: GuardrailConfig, privilegedUsers: readonly string[] = []): boolean {
  if (!user) return false;
  if (user.username && privilegedUsers.includes(user.username)) return true;
  return (user.groups ?? []).some((g) => config.privilegedGroups.includes(g));
}

/**
 * JSONPatch that stamps the cluster label when it is missing. A different value is left in place for
 * the validating webhook to judge (privileged users may set it), so the patch is idempotent.
 */
export function clusterLabelPatch(ns: Labelled, config: GuardrailConfig): JsonPatchOp[] {
  const labels = ns?.metadata?.labels;
  const value = config.cluster.name;
  if (value === undefined) return []; // no declared name: nothing to stamp
  if (labels && Object.prototype.hasOwnProperty.call(labels, config.clusterLabel)) return [];
  if (!ns?.metadata) return [{ op: "add", path: "/metadata", value: { labels: { [config.clusterLabel]: value } } }];
  if (!labels || typeof labels !== "object") return [{ op: "add", path: "/metadata/labels", value: { [config.clusterLabel]: value } }];
  return [{ op: "add", path: `/metadata/labels/${escapePointer(config.clusterLabel)}`, value }];
}

function deny(rule: GuardrailId, path: string, message: string, fix: string): Finding {
  return { rule, action: "deny", certainty: "provable", path, message, fix };
}

/** Reserved-label guardrails for a Namespace CREATE (old undefined) or UPDATE. */
export function checkNamespace(ns: Labelled, old: Labelled, user: UserInfo | undefined, config: GuardrailConfig, privilegedUsers: readonly string[] = []): Finding[] {
  if (isPrivileged(user, config, privilegedUsers)) return [];
  const findings: Finding[] = [];
  const labels = labelsOf(ns);
  const oldLabels = labelsOf(old);
  const key = config.clusterLabel;
  const value = labels[key];
  if (value !== undefined && value !== config.cluster.name && value !== oldLabels[key]) {
    findings.push(
      deny(
        "reserved-cluster-label",
        fieldPath(["metadata", "labels", key]),
        config.cluster.name === undefined
          ? `"${key}" is reserved for the cluster identity and no cluster.name is declared; only ${config.privilegedGroups.join(", ")} may set it.`
          : `"${key}" is reserved for the cluster identity and must be "${config.cluster.name}" here; only ${config.privilegedGroups.join(", ")} may set another value.`,
        config.cluster.name === undefined ? "Remove the label." : `Remove the label (netguard stamps it) or set it to "${config.cluster.name}".`,
      ),
    );
  }
  const opt = optOutLabel(config);
  if (labels[opt.key] === opt.value && oldLabels[opt.key] !== opt.value) {
    findings.push(
      deny(
        "baseline-opt-out",
        fieldPath(["metadata", "labels", opt.key]),
        `opting a namespace out of the netguard baseline policy (${opt.key}=${opt.value}) is reserved for ${config.privilegedGroups.join(", ")}.`,
        "Remove the label, or ask the platform team to opt this namespace out.",
      ),
    );
  }
  return findings;
}

/**
 * The control plane's cleanup identities: kube-controller-manager's namespace controller and garbage
 * collector as their own service accounts (`--use-service-account-credentials`, as kubeadm and the managed
 * clouds run it), and kube-controller-manager itself when it runs without that flag. Only a cluster
 * administrator can act as one of them (their tokens are minted in kube-system).
 */
export const CLEANUP_USERS: readonly string[] = [
  "system:serviceaccount:kube-system:namespace-controller",
  "system:serviceaccount:kube-system:generic-garbage-collector",
  "system:kube-controller-manager",
];

export type Deletable = { metadata?: ObjectMeta & { deletionTimestamp?: string; finalizers?: string[] } } | undefined;

export interface ManagedPolicyChangeContext {
  /** The object after the UPDATE (`request.object`). */
  object?: Deletable;
  /** From the controller's caches: which namespaces are being deleted. */
  facts?: ClusterFacts;
}

/**
 * An UPDATE of an object already being deleted that only drops finalizers: what lets a deletion that was
 * admitted finish (the garbage collector's foregroundDeletion, or another controller's own finalizer).
 */
export function finishesDeletion(old: Deletable, object: Deletable): boolean {
  if (!old?.metadata?.deletionTimestamp || !object) return false;
  const kept = (o: NonNullable<Deletable>) => canonicalJson({ ...o, metadata: { labels: o.metadata?.labels, annotations: o.metadata?.annotations } });
  const finalizers = (o: NonNullable<Deletable>): unknown[] => (Array.isArray(o.metadata?.finalizers) ? o.metadata.finalizers : []);
  const before = finalizers(old);
  return kept(object) === kept(old) && finalizers(object).every((f) => before.includes(f));
}

/** Cleanup that must never wait for netguard (its webhooks fail closed): see docs/install.md "Cleanup is never blocked". */
function isCleanup(operation: string, old: Deletable, user: UserInfo | undefined, context: ManagedPolicyChangeContext): boolean {
  if (user?.username !== undefined && CLEANUP_USERS.includes(user.username)) return true;
  const namespace = old?.metadata?.namespace;
  if (operation === "DELETE") return namespace !== undefined && context.facts?.terminatingNamespaces?.has(namespace) === true;
  return finishesDeletion(old, context.object);
}

/**
 * UPDATE or DELETE of a NetworkPolicy that netguard manages is reserved for privileged users, except the
 * cluster's own cleanup: the namespace controller and the garbage collector, any DELETE in a namespace
 * being deleted, and an UPDATE that only removes finalizers from a baseline already being deleted.
 */
export function checkManagedPolicyChange(
  operation: string,
  old: Labelled,
  user: UserInfo | undefined,
  config: GuardrailConfig,
  privilegedUsers: readonly string[] = [],
  context: ManagedPolicyChangeContext = {},
): Finding[] {
  if ((operation !== "UPDATE" && operation !== "DELETE") || !isManagedPolicy(old)) return [];
  if (isPrivileged(user, config, privilegedUsers) || isCleanup(operation, old, user, context)) return [];
  const verb = operation === "DELETE" ? "deleted" : "changed";
  return [
    deny(
      "managed-baseline",
      "metadata",
      `this NetworkPolicy is managed by netguard (the namespace baseline) and cannot be ${verb} by ${user?.username ?? "this user"}.`,
      "Add your own NetworkPolicy next to it to allow more traffic; the platform team can opt the namespace out.",
    ),
  ];
}

/**
 * Only netguard (and privilegedGroups) may make a policy netguard's: outside them, a CREATE or UPDATE that would
 * make the object managed (managedFields naming netguard's field manager, with the managed-by label) is denied,
 * and so is a CREATE under the baseline's name, which the controller would then have to leave alone.
 */
export function checkManagedPolicyClaim(
  operation: string,
  object: Labelled,
  old: Labelled,
  user: UserInfo | undefined,
  config: GuardrailConfig,
  privilegedUsers: readonly string[] = [],
): Finding[] {
  if ((operation !== "CREATE" && operation !== "UPDATE") || isPrivileged(user, config, privilegedUsers)) return [];
  const who = user?.username ?? "this user";
  if (isManagedPolicy(object) && !isManagedPolicy(old)) {
    return [
      deny(
        "managed-baseline",
        "metadata.managedFields",
        `only netguard writes as field manager "${NETGUARD_FIELD_MANAGER}" on a policy labelled ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}; ${who} cannot make a NetworkPolicy netguard's.`,
        "Drop metadata.managedFields (or the label) from the manifest; the apiserver records your own field manager.",
      ),
    ];
  }
  if (operation === "CREATE" && object?.metadata?.name === config.baseline.name) {
    return [
      deny(
        "managed-baseline",
        "metadata.name",
        `the name ${config.baseline.name} is reserved for netguard's baseline NetworkPolicy; ${who} cannot create a policy under it.`,
        "Give your NetworkPolicy another name; it adds to the baseline (NetworkPolicies are additive).",
      ),
    ];
  }
  return [];
}
