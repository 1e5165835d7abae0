/** Structure of networking.k8s.io/v1 NetworkPolicy spec, as the apiserver decodes it (unknown fields are errors). */
const selector = {
  type: "object",
  additionalProperties: false,
  properties: {
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["key", "operator"],
        properties: {
          key: { type: "string" },
          operator: { enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
          values: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
};

const peer = {
  type: "object",
  additionalProperties: false,
  properties: {
    podSelector: selector,
    namespaceSelector: selector,
    ipBlock: {
      type: "object",
      additionalProperties: false,
      required: ["cidr"],
      properties: { cidr: { type: "string" }, except: { type: "array", items: { type: "string" } } },
    },
  },
};

const port = {
  type: "object",
  additionalProperties: false,
  properties: {
    protocol: { enum: ["TCP", "UDP", "SCTP"] },
    port: { type: ["integer", "string"] },
    endPort: { type: "integer" },
  },
};

const rule = (peersField: "from" | "to") => ({
  type: "object",
  additionalProperties: false,
  properties: { [peersField]: { type: "array", items: peer }, ports: { type: "array", items: port } },
});

export const networkPolicySchema = {
  type: "object",
  required: ["metadata", "spec"],
  properties: {
    apiVersion: { const: "networking.k8s.io/v1" },
    kind: { const: "NetworkPolicy" },
    metadata: {
      type: "object",
      properties: {
        name: { type: "string" },
        namespace: { type: "string" },
        labels: { type: "object", additionalProperties: { type: "string" } },
        annotations: { type: "object", additionalProperties: { type: "string" } },
      },
    },
    spec: {
      type: "object",
      additionalProperties: false,
      properties: {
        podSelector: selector,
        policyTypes: { type: "array", maxItems: 2, items: { enum: ["Ingress", "Egress"] } },
        ingress: { type: "array", items: rule("from") },
        egress: { type: "array", items: rule("to") },
      },
    },
  },
} as const;
