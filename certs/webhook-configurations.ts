import type { V1MutatingWebhookConfiguration, V1ValidatingWebhook, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { Document, isMap, isScalar, isSeq } from "yaml";
import { CLEANUP_USERS, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NETGUARD_FIELD_MANAGER, WEBHOOK_EXCLUDED_NAMESPACES } from "../policies/index.js";

/** How the apiserver reaches netguard: an in-cluster Service, or a URL (local runs and tests). */
export type WebhookTarget = { service: { name: string; namespace: string; port?: number } } | { url: string };

export interface WebhookConfigurationOptions {
  /** PEM of the CA(s) that the apiserver trusts for netguard; without it no caBundle is set (it is injected later). */
  caCert?: string;
  target: WebhookTarget;
  /** metadata.name of both configurations. */
  name?: string;
  /** Namespaces never sent to netguard (neither they nor their NetworkPolicies), so the control plane and netguard can always recover. */
  excludedNamespaces?: readonly string[];
  timeoutSeconds?: number;
  /** The ConfigMap holding netguard's config, checked on CREATE/UPDATE; null leaves ConfigMaps alone. */
  configMap?: { namespace: string; name: string } | null;
  /** Also send Pod CREATEs, for `netguard serve --pod-guard` (off by default: every pod would wait on netguard). */
  podGuard?: boolean;
}

export interface WebhookConfigurations {
  validating: V1ValidatingWebhookConfiguration;
  mutating: V1MutatingWebhookConfiguration;
}

export const WEBHOOK_NAMES = {
  validateNetworkPolicies: "networkpolicies.validate.netguard.dev",
  validateCniPolicies: "cnipolicies.validate.netguard.dev",
  validateNamespaces: "namespaces.validate.netguard.dev",
  mutateNamespaces: "namespaces.mutate.netguard.dev",
  validateConfig: "config.validate.netguard.dev",
  guardPods: "pods.validate.netguard.dev",
  validateExceptions: "exceptions.validate.netguard.dev",
} as const;

/** Where netguard's GuardrailConfig lives in a cluster (manifests/base/config.yaml): validated on admission. */
export const NETGUARD_CONFIG_MAP = { namespace: "netguard-system", name: "netguard-config", key: "config.yaml" } as const;

const FAILURE_POLICY_WHY: Record<string, string> = {
  [WEBHOOK_NAMES.guardPods]:
    "Ignore: the pod guard only narrows the moments between a namespace's creation and its baseline;\n" +
    "with netguard down, pods must still start (the baseline itself is already in place or soon will be).",
  [WEBHOOK_NAMES.validateConfig]:
    "Ignore: when netguard is down (a bad config at startup, say), fixing its ConfigMap must not wait for netguard.\n" +
    "Only netguard's own ConfigMap is sent; a config that slipped through is still refused by netguard's reload.",
  [WEBHOOK_NAMES.validateNetworkPolicies]:
    "Fail: a guardrail that lets policies through whenever netguard is unreachable is not a guardrail.\n" +
    "The namespaceSelector keeps kube-system and netguard-system out, so the cluster and netguard can still recover;\n" +
    "deleting a policy netguard does not manage never waits for it, nor does the cluster's cleanup (namespace controller, garbage collector).",
  [WEBHOOK_NAMES.validateCniPolicies]:
    "Fail, as for NetworkPolicies. Cilium's kinds are CRDs of this apiserver; Calico's projectcalico.org/v3 kinds are served\n" +
    "by the Calico API server, which runs the same webhook admission (docs/cni-policies.md); a cluster without one never calls it.\n" +
    "Only creates and updates are sent (netguard manages no CNI policy), never by the\n" +
    "cluster's cleanup; an update is denied only for what it introduces, so removing a finalizer never waits for netguard.",
  [WEBHOOK_NAMES.validateExceptions]:
    "Fail: an exception written while netguard is down would skip the checks of who wrote it and when it expires.\n" +
    "Only creates and updates are sent, never an update of an exception being deleted: deleting one never waits for netguard.",
  [WEBHOOK_NAMES.validateNamespaces]:
    "Fail: a reserved cluster label set while netguard is down would never be checked.\n" +
    "Only creates and label changes (through the namespace, its status or finalize) are sent, never for kube-system or netguard-system.",
  [WEBHOOK_NAMES.mutateNamespaces]:
    "Fail: a namespace created without the cluster label would make remote-cluster-selector reason about a false topology.\n" +
    "Only creates and label changes (through the namespace, its status or finalize) are sent, never for kube-system or netguard-system.",
};

function clientConfig(target: WebhookTarget, path: string, caBundle: string | undefined) {
  const ca = caBundle === undefined ? {} : { caBundle };
  if ("url" in target) return { url: `${target.url.replace(/\/+$/, "")}${path}`, ...ca };
  const { name, namespace, port = 443 } = target.service;
  return { service: { name, namespace, path, port }, ...ca };
}

const celList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(", ")}]`;

/**
 * Namespace requests netguard has nothing to say about never depend on it being up: the excluded
 * namespaces themselves, and UPDATEs that leave the labels alone (the guardrails only judge label
 * changes; a namespace that predates netguard gets its cluster label from the controller's backfill).
 */
function namespaceConditions(excluded: readonly string[]) {
  return [
    { name: "not-excluded-namespace", expression: `!has(object.metadata.name) || !(object.metadata.name in ${celList(excluded)})` },
    {
      name: "create-or-labels-changed",
      expression:
        "request.operation == 'CREATE' || has(object.metadata.labels) != has(oldObject.metadata.labels) || " +
        "(has(object.metadata.labels) && object.metadata.labels != oldObject.metadata.labels)",
    },
  ];
}

/**
 * Deleting a NetworkPolicy is only judged for the baselines netguard manages (isManagedPolicy: the label and
 * netguard's field manager); other deletes never wait for it. The cluster's own cleanup is never sent at all, so
 * that deleting a namespace finishes even while netguard is down.
 */
const notClusterCleanup = () => ({ name: "not-cluster-cleanup", expression: `!(request.userInfo.username in ${celList(CLEANUP_USERS)})` });

const networkPolicyConditions = () => [
  notClusterCleanup(),
  {
    name: "delete-only-if-managed",
    expression:
      `request.operation != 'DELETE' || (has(oldObject.metadata.labels) && '${MANAGED_BY_LABEL}' in oldObject.metadata.labels && ` +
      `oldObject.metadata.labels['${MANAGED_BY_LABEL}'] == '${MANAGED_BY_VALUE}' && has(oldObject.metadata.managedFields) && ` +
      `oldObject.metadata.managedFields.exists(f, has(f.manager) && f.manager == '${NETGUARD_FIELD_MANAGER}'))`,
  },
];

/** netguard's own ConfigMap, so that an invalid GuardrailConfig is refused at `kubectl apply` time. */
function configMapWebhooks(
  options: WebhookConfigurationOptions,
  caBundle: string | undefined,
  common: () => Pick<V1ValidatingWebhook, "admissionReviewVersions" | "sideEffects" | "timeoutSeconds" | "failurePolicy" | "matchPolicy">,
): V1ValidatingWebhook[] {
  const target = options.configMap === undefined ? NETGUARD_CONFIG_MAP : options.configMap;
  if (!target) return [];
  return [
    {
      name: WEBHOOK_NAMES.validateConfig,
      clientConfig: clientConfig(options.target, "/validate", caBundle),
      rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"], operations: ["CREATE", "UPDATE"], scope: "Namespaced" }],
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": target.namespace } },
      matchConditions: [{ name: "netguard-config-only", expression: `object.metadata.name == '${target.name}'` }],
      ...common(),
      failurePolicy: "Ignore",
    },
  ];
}

/** The Validating and Mutating webhook configurations for netguard, with the caBundle filled in when a CA is given. */
export function buildWebhookConfigurations(options: WebhookConfigurationOptions): WebhookConfigurations {
  const caBundle = options.caCert === undefined ? undefined : Buffer.from(options.caCert).toString("base64");
  const name = options.name ?? "netguard";
  const excluded = options.excludedNamespaces ?? WEBHOOK_EXCLUDED_NAMESPACES;
  const common = () => ({
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    timeoutSeconds: options.timeoutSeconds ?? 5,
    failurePolicy: "Fail",
    matchPolicy: "Equivalent",
  });
  // namespaces/status and namespaces/finalize write metadata.labels too (checked on kube-apiserver 1.34), so the
  // guarded labels have three write paths. NetworkPolicy has no subresource; a DELETE collection reaches the
  // webhooks as one DELETE per object.
  const namespaceRule = (operations: string[]) => ({
    apiGroups: [""],
    apiVersions: ["v1"],
    resources: ["namespaces", "namespaces/status", "namespaces/finalize"],
    operations,
    scope: "Cluster",
  });
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
          matchConditions: networkPolicyConditions(),
          ...common(),
        },
        {
          // Cilium's kinds are CRDs the kube-apiserver serves, so they pass through admission like any object; where
          // the CRDs are not installed the rule matches nothing.
          name: WEBHOOK_NAMES.validateCniPolicies,
          clientConfig: clientConfig(options.target, "/validate", caBundle),
          rules: [
            {
              apiGroups: ["cilium.io"],
              apiVersions: ["v2"],
              resources: ["ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"],
              operations: ["CREATE", "UPDATE"],
              scope: "*",
            },
            {
              apiGroups: ["projectcalico.org"],
              apiVersions: ["v3"],
              resources: ["networkpolicies", "globalnetworkpolicies"],
              operations: ["CREATE", "UPDATE"],
              scope: "*",
            },
          ],
          namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...excluded] }] },
          matchConditions: [notClusterCleanup()],
          ...common(),
        },
        {
          name: WEBHOOK_NAMES.validateNamespaces,
          clientConfig: clientConfig(options.target, "/validate", caBundle),
          rules: [namespaceRule(["CREATE", "UPDATE"])],
          matchConditions: namespaceConditions(excluded),
          ...common(),
        },
        {
          name: WEBHOOK_NAMES.validateExceptions,
          clientConfig: clientConfig(options.target, "/validate", caBundle),
          rules: [{ apiGroups: ["netguard.dev"], apiVersions: ["v1alpha1"], resources: ["guardrailexceptions"], operations: ["CREATE", "UPDATE"], scope: "Cluster" }],
          matchConditions: [{ name: "not-being-deleted", expression: "request.operation == 'CREATE' || !has(oldObject.metadata.deletionTimestamp)" }],
          ...common(),
        },
        ...configMapWebhooks(options, caBundle, common),
        ...(options.podGuard
          ? [
              {
                name: WEBHOOK_NAMES.guardPods,
                clientConfig: clientConfig(options.target, "/validate", caBundle),
                rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE"], scope: "Namespaced" }],
                namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...excluded] }] },
                ...common(),
                failurePolicy: "Ignore",
              },
            ]
          : []),
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
          matchConditions: namespaceConditions(excluded),
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
