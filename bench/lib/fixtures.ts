/** Objects the benchmarks send: a typical NetworkPolicy, a large one, a Namespace, and their AdmissionReviews. */
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** DESIGN.md §4's topology: gcp-west here, aws-east behind NAT, dc-north routed with snatToNodes. */
export const MULTICLOUD = join(ROOT, "test/fixtures/config/multicloud.yaml");

type Peer = Record<string, unknown>;

export function networkPolicy(name: string, namespace: string, spec: Record<string, unknown>) {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec };
}

/** What most policies look like: a few selector peers, a NAT source, DNS-free egress to a routed remote. Allowed, no findings. */
export function typicalPolicy(name = "checkout", namespace = "shop") {
  return networkPolicy(name, namespace, {
    podSelector: { matchLabels: { app: "checkout" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      {
        from: [
          { podSelector: { matchLabels: { app: "frontend" } } },
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { app: "prometheus" } } },
          { ipBlock: { cidr: "203.0.113.10/32" } },
        ],
        ports: [{ protocol: "TCP", port: 8080 }],
      },
    ],
    egress: [
      { to: [{ podSelector: { matchLabels: { app: "payments-db" } } }], ports: [{ protocol: "TCP", port: 5432 }] },
      { to: [{ ipBlock: { cidr: "198.51.100.0/28" } }, { ipBlock: { cidr: "10.200.0.0/16" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ],
  });
}

/** The NAT-hidden case both netguard and the CEL policy deny: an ipBlock inside aws-east's pod range. */
export function natHiddenPolicy(name = "allow-aws", namespace = "shop") {
  return networkPolicy(name, namespace, {
    podSelector: {},
    ingress: [{ from: [{ ipBlock: { cidr: "10.100.4.0/24" } }], ports: [{ protocol: "TCP", port: 8080 }] }],
  });
}

/** 50 rules (25 ingress, 25 egress) × 20 peers mixing ipBlocks and selectors; allowed, so every rule runs on every peer. */
export function largePolicy(name = "big", namespace = "shop") {
  const peer = (i: number, j: number, direction: "ingress" | "egress"): Peer => {
    switch (j % 4) {
      case 0:
        return { ipBlock: { cidr: `172.16.${i}.${(j % 32) * 8}/29` } };
      case 1:
        return { podSelector: { matchLabels: { app: `svc-${i}-${j}` } } };
      case 2:
        return { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [`team-${j}`] }] } };
      default:
        return direction === "ingress" ? { ipBlock: { cidr: "203.0.113.10/32" } } : { ipBlock: { cidr: `10.200.${i}.0/24`, except: [`10.200.${i}.128/25`] } };
    }
  };
  const rules = (direction: "ingress" | "egress") =>
    Array.from({ length: 25 }, (_, i) => ({
      [direction === "ingress" ? "from" : "to"]: Array.from({ length: 20 }, (_, j) => peer(i, j, direction)),
      ports: [{ protocol: "TCP", port: 1000 + i }],
    }));
  return networkPolicy(name, namespace, { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: rules("ingress"), egress: rules("egress") });
}

export function namespaceObject(name = "team-a") {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { team: name } } };
}

export function admissionReview(object: { kind: string; metadata: { name: string; namespace?: string } }, uid: string = randomUUID()) {
  const isPolicy = object.kind === "NetworkPolicy";
  const kind = isPolicy ? { group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy" } : { group: "", version: "v1", kind: "Namespace" };
  const resource = { group: kind.group, version: "v1", resource: isPolicy ? "networkpolicies" : "namespaces" };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      name: object.metadata.name,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      operation: "CREATE",
      userInfo: { username: "alice", groups: ["system:authenticated"] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}
