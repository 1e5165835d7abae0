/** networking.k8s.io/v1 NetworkPolicy as Go types (k8s.io/api v0.34): every field the apiserver decodes. */
import type { GoType } from "./decode.js";

const labelSelector: GoType = {
  struct: {
    matchLabels: { map: "string" },
    matchExpressions: { slice: { struct: { key: "string", operator: "string", values: { slice: "string" } } } },
  },
  pointer: true,
};

export const objectMetaType: GoType = {
  struct: {
    name: "string",
    generateName: "string",
    namespace: "string",
    selfLink: "string",
    uid: "string",
    resourceVersion: "string",
    generation: "int64",
    creationTimestamp: "time",
    deletionTimestamp: "time",
    deletionGracePeriodSeconds: "int64",
    labels: { map: "string" },
    annotations: { map: "string" },
    ownerReferences: {
      slice: { struct: { apiVersion: "string", kind: "string", name: "string", uid: "string", controller: "bool", blockOwnerDeletion: "bool" } },
    },
    finalizers: { slice: "string" },
    managedFields: {
      slice: {
        struct: { manager: "string", operation: "string", apiVersion: "string", time: "time", fieldsType: "string", fieldsV1: "json", subresource: "string" },
      },
    },
  },
};

const peer: GoType = {
  struct: {
    podSelector: labelSelector,
    namespaceSelector: labelSelector,
    ipBlock: { struct: { cidr: "string", except: { slice: "string" } }, pointer: true },
  },
};

const ports: GoType = { slice: { struct: { protocol: "string", port: "intOrString", endPort: "int32" } } };

export const networkPolicyType: GoType = {
  struct: {
    apiVersion: "string",
    kind: "string",
    metadata: objectMetaType,
    spec: {
      struct: {
        podSelector: { ...labelSelector, pointer: false },
        policyTypes: { slice: "string" },
        ingress: { slice: { struct: { from: { slice: peer }, ports } } },
        egress: { slice: { struct: { to: { slice: peer }, ports } } },
      },
    },
  },
};
