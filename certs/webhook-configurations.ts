import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { Document, isMap, isScalar, isSeq } from "yaml";

/** How the apiserver reaches netguard: an in-cluster Service, or a URL (local runs and tests). */
export type WebhookTarget = { service: { name: string; namespace: string; port?: number } } | { url: string };

export interface WebhookConfigurationOptions {
  /** PEM of the CA that signed the serving certificate. */
  caCert: string;
  target: WebhookTarget;
  /** metadata.name of both configurations. */
  name?: string;
  /** Namespaces whose NetworkPolicies are never sent to netguard, so the control plane and netguard can always recover. */
  excludedNamespaces?: readonly string[];
  timeoutSeconds?: number;
}

export interface WebhookConfigurations {
  validating: V1ValidatingWebhookConfiguration;
  mutating: V1MutatingWebhookConfiguration;
}

export const WEBHOOK_NAMES = {
  validateNetworkPolicies: "networkpolicies.validate.netguard.dev",
  validateNamespaces: "namespaces.validate.netguard.dev",
  mutateNamespaces: "namespaces.mutate.netguard.dev",
} as const;

const FAILURE_POLICY_WHY: Record<string, string> = {
  [WEBHOOK_NAMES.validateNetworkPolicies]:
    "Fail: a guardrail that lets policies through whenever netguard is unreachable is not a guardrail.\n" +
    "The namespaceSelector keeps kube-system and netguard-system out, so the cluster and netguard can still recover.",
  [WEBHOOK_NAMES.validateNamespaces]: "Fail: a reserved cluster label set while netguard is down would never be checked.",
  [WEBHOOK_NAMES.mutateNamespaces]:
    "Fail: a namespace created without the cluster label would make remote-cluster-selector reason about a false topology.",
};

function clientConfig(target: WebhookTarget, path: string, caBundle: string) {
  if ("url" in target) return { url: `${target.url.replace(/\/+$/, "")}${path}`, caBundle };
  const { name, namespace, port = 443 } = target.service;
  return { service: { name, namespace, path, port }, caBundle };
}

/** The Validating and Mutating webhook configurations for netguard, with the caBundle filled in. */
export function buildWebhookConfigurations(options: WebhookConfigurationOptions): WebhookConfigurations {
  const caBundle = Buffer.from(options.caCert).toString("base64");
  const name = options.name ?? "netguard";
  const excluded = options.excludedNamespaces ?? ["kube-system", "netguard-system"];
  const common = () => ({
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    timeoutSeconds: options.timeoutSeconds ?? 5,
    failurePolicy: "Fail",
    matchPolicy: "Equivalent",
  });
  const namespaceRule = (operations: string[]) => ({ apiGroups: [""], apiVersions: ["v1"], resources: ["namespaces"], operations, scope: "Cluster" });
  return {
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name, labels: { "app.kubernetes.io/name": "netguard" } },
      webhooks: [
        {
          name: WEBHOOK_NAMES.validateNetworkPolicies,
          clientConfig: clientConfig(options.target, "/validate", caBundle),
          rules: [
            {
              apiGroups: ["networking.k8s.io"],
              apiVersions: ["v1"],
              resources: ["networkpolicies"],
              operations: ["CREATE", "UPDATE", "DELETE"],
              scope: "Namespaced",
            },
          ],
          namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...excluded] }] },
          ...common(),
        },
        {
          name: WEBHOOK_NAMES.validateNamespaces,
          clientConfig: clientConfig(options.target, "/validate", caBundle),
          rules: [namespaceRule(["CREATE", "UPDATE"])],
          ...common(),
        },
      ],
    },
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name, labels: { "app.kubernetes.io/name": "netguard" } },
      webhooks: [
        {
          name: WEBHOOK_NAMES.mutateNamespaces,
          clientConfig: clientConfig(options.target, "/mutate", caBundle),
          rules: [namespaceRule(["CREATE", "UPDATE"])],
          // The patch only adds a missing label, so calling it again after other mutations is harmless.
          reinvocationPolicy: "IfNeeded",
          ...common(),
        },
      ],
    },
  };
}

function commentFailurePolicies(doc: Document): void {
  const webhooks = doc.get("webhooks", true);
  if (!isSeq(webhooks)) return;
  for (const webhook of webhooks.items) {
    if (!isMap(webhook)) continue;
    const why = FAILURE_POLICY_WHY[String(webhook.get("name"))];
    const pair = webhook.items.find((p) => isScalar(p.key) && p.key.value === "failurePolicy");
    if (why && pair && isScalar(pair.key)) pair.key.commentBefore = ` ${why.replace(/\n/g, "\n ")}`;
  }
}

/** Both configurations as one multi-document YAML stream, with the failurePolicy choices explained. */
export function webhookConfigurationsYaml(configurations: WebhookConfigurations): string {
  return [configurations.validating, configurations.mutating]
    .map((object) => {
      const doc = new Document(object);
      commentFailurePolicies(doc);
      return doc.toString({ lineWidth: 0 });
    })
    .join("---\n");
}
