import type { GuardrailConfig } from "./config/types.js";
import type { NetworkPolicy } from "./types.js";

/** Labels that mark an object as created and owned by netguard. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "netguard";

export function isManagedPolicy(object: { metadata?: { labels?: Record<string, string> } } | undefined): boolean {
  return object?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
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
