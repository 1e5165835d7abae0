import type { GuardrailConfig } from "./config/types.js";
import type { LabelSelector } from "./selectors.js";
import type { NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer } from "./types.js";

/** Labels that mark an object as created and owned by netguard. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "netguard";
/** The field manager of every write netguard's controller makes; the apiserver records it in managedFields. */
export const NETGUARD_FIELD_MANAGER = "netguard";

export interface ManagedObject {
  metadata?: { labels?: Record<string, string>; managedFields?: unknown };
}

/**
 * netguard's own policy: labelled managed-by=netguard AND written by netguard's field manager (its managedFields
 * name it). Anyone may put a label on their policy, so the label alone claims nothing; managedFields can be
 * forged too (the apiserver stores what an update sends), but the webhook refuses that to everyone outside privilegedGroups
 * (checkManagedPolicyClaim). An admin who removes the label takes the policy over: it is no longer netguard's.
 */
export function isManagedPolicy(object: ManagedObject | undefined): boolean {
  const metadata = object?.metadata;
  if (metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || !Array.isArray(metadata.managedFields)) return false;
  return metadata.managedFields.some((entry: unknown) => (entry as { manager?: unknown } | null)?.manager === NETGUARD_FIELD_MANAGER);
}

/** The desired baseline NetworkPolicy for a namespace: deny all ingress, and egress per config. */
export function buildBaselinePolicy(namespace: string, config: GuardrailConfig): NetworkPolicy {
  const { baseline } = config;
  const dnsOnly = baseline.egress === "dns-only";
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: baseline.name,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      annotations: { "netguard.dev/description": dnsOnly ? "deny all ingress; egress only to DNS" : "deny all ingress" },
    },
    spec: {
      podSelector: {},
      policyTypes: dnsOnly ? ["Ingress", "Egress"] : ["Ingress"],
      ingress: [],
      ...(dnsOnly
        ? {
            egress: [
              {
                to: [{ namespaceSelector: structuredClone(baseline.dns.namespaceSelector), podSelector: structuredClone(baseline.dns.podSelector) }],
                ports: baseline.dns.ports.map((p) => ({ protocol: p.protocol, port: p.port })),
              },
            ],
          }
        : {}),
    },
  };
}

/** Why a namespace does or does not get the baseline policy. */
export type BaselineStatus = "protected" | "exempt" | "opted-out" | "disabled";

export function optOutLabel(config: GuardrailConfig): { key: string; value: string } {
  const [key = "", value = ""] = config.baseline.optOutLabel.split("=");
  return { key, value };
}

export function baselineStatus(ns: { metadata?: { name?: string; labels?: Record<string, string> } }, config: GuardrailConfig): BaselineStatus {
  if (!config.baseline.enabled) return "disabled";
  if (config.exemptNamespaces.includes(ns.metadata?.name ?? "")) return "exempt";
  const { key, value } = optOutLabel(config);
  return ns.metadata?.labels?.[key] === value ? "opted-out" : "protected";
}

/** True when an existing baseline differs from the desired one in anything netguard owns. */
export function baselineDrifted(existing: Pick<NetworkPolicy, "metadata" | "spec">, desired: NetworkPolicy): boolean {
  const labels = existing.metadata.labels ?? {};
  const labelsDrifted = Object.entries(desired.metadata.labels ?? {}).some(([k, v]) => labels[k] !== v);
  return labelsDrifted || !sameJson(normalizeSpec(existing.spec), normalizeSpec(desired.spec));
}

/** Lists and maps the apiserver stores only when non-empty (Go `omitempty`): an empty one reads back absent. */
const filled = <T>(list: readonly T[] | null | undefined): list is T[] => Array.isArray(list) && list.length > 0;

/** A label selector as the apiserver stores it: empty matchLabels, matchExpressions and values dropped. */
function storedSelector(selector: LabelSelector | null | undefined): LabelSelector | undefined {
  if (selector === undefined || selector === null) return undefined;
  const { matchLabels, matchExpressions } = selector;
  return {
    ...(matchLabels && Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(filled(matchExpressions)
      ? { matchExpressions: matchExpressions.map(({ key, operator, values }) => ({ key, operator, ...(filled(values) ? { values } : {}) })) }
      : {}),
  };
}

function storedPeer(peer: NetworkPolicyPeer): NetworkPolicyPeer {
  const { podSelector, namespaceSelector, ipBlock } = peer;
  return {
    ...(podSelector ? { podSelector: storedSelector(podSelector) } : {}),
    ...(namespaceSelector ? { namespaceSelector: storedSelector(namespaceSelector) } : {}),
    ...(ipBlock ? { ipBlock: { cidr: ipBlock.cidr, ...(filled(ipBlock.except) ? { except: ipBlock.except } : {}) } } : {}),
  };
}

/** Rules as stored: empty peer and port lists dropped, each port's protocol defaulted to TCP. */
function storedRules(rules: readonly (NetworkPolicyIngressRule | NetworkPolicyEgressRule)[] | undefined, peersField: "from" | "to"): unknown[] {
  return (rules ?? []).map((rule) => {
    const peers = (rule as Record<string, NetworkPolicyPeer[] | undefined>)[peersField];
    return {
      ...(filled(peers) ? { [peersField]: peers.map(storedPeer) } : {}),
      ...(filled(rule.ports) ? { ports: rule.ports.map((p) => ({ ...p, protocol: p.protocol ?? "TCP" })) } : {}),
    };
  });
}

/**
 * A spec the way the apiserver stores it (checked against a real one in test/e2e/baseline-stored.test.ts):
 * what netguard writes and what it reads back compare equal, so no valid config makes the reconciler
 * rewrite the baseline on every pass or the audit report it missing for ever.
 */
function normalizeSpec(spec: NetworkPolicy["spec"]): unknown {
  const egress = storedRules(spec.egress, "to");
  // The apiserver fills in omitted policyTypes: Ingress, plus Egress when there are egress rules.
  const policyTypes = filled(spec.policyTypes) ? spec.policyTypes : ["Ingress", ...(egress.length > 0 ? ["Egress"] : [])];
  return {
    podSelector: storedSelector(spec.podSelector) ?? {},
    policyTypes: [...policyTypes].sort(),
    ingress: storedRules(spec.ingress, "from"),
    egress,
  };
}

/** JSON with object keys sorted, so equal values compare equal whatever order their keys came in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}
