import type { GuardrailConfig } from "./config/types.js";
import type { NetworkPolicy } from "./types.js";

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

/** The apiserver defaults protocol to TCP and drops empty lists; compare specs the way it stores them. */
function normalizeSpec(spec: NetworkPolicy["spec"]): unknown {
  const ports = (list: { protocol?: string; port?: number | string; endPort?: number }[] | undefined) =>
    (list ?? []).map((p) => ({ ...p, protocol: p.protocol ?? "TCP" }));
  return {
    podSelector: spec.podSelector ?? {},
    policyTypes: [...(spec.policyTypes ?? [])].sort(),
    ingress: (spec.ingress ?? []).map((r) => ({ from: r.from ?? [], ports: ports(r.ports) })),
    egress: (spec.egress ?? []).map((r) => ({ to: r.to ?? [], ports: ports(r.ports) })),
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
