/**
 * Where a cluster's own ranges can be read from its API, and what each source proves. Pure: the controller and
 * `netguard describe-cluster` list the objects; these functions read ranges out of them.
 */
import type { Cni } from "../config/types.js";
import { parseCidr, parseIP } from "../net/cidr.js";

export type RangeKind = "pod" | "service" | "node";

export type SourceId = "ServiceCIDR" | "kubernetes-service" | "Node.spec.podCIDRs" | "Node.status.addresses" | "calico-ippool" | "cilium-node" | "cilium-podippool";

export interface SourceInfo {
  readonly kind: RangeKind;
  /** The API objects read, as `kubectl get` names them. */
  readonly objects: string;
  readonly proves: string;
  readonly cannot: string;
  /** Authoritative: every range of this kind the cluster uses is in this source, so a declared range it lacks is wrong. */
  readonly authoritative: (cni: Cni) => boolean;
}

export const SOURCES: Readonly<Record<SourceId, SourceInfo>> = {
  ServiceCIDR: {
    kind: "service",
    objects: "servicecidrs.networking.k8s.io",
    proves: "the ranges the apiserver allocates ClusterIPs from (networking.k8s.io/v1, GA in Kubernetes 1.33)",
    cannot: "nothing: it is the allocator's own list",
    authoritative: () => true,
  },
  "kubernetes-service": {
    kind: "service",
    objects: "service default/kubernetes",
    proves: "that the service range contains the kubernetes Service's ClusterIP (read only where ServiceCIDR is not served)",
    cannot: "the range's size: the config must declare it",
    authoritative: () => false,
  },
  "Node.spec.podCIDRs": {
    kind: "pod",
    objects: "nodes (spec.podCIDRs)",
    proves: "the pod ranges kube-controller-manager (--allocate-node-cidrs) or the cloud gave each node",
    cannot: "pods addressed by a CNI's own IPAM: Calico IPAM ignores the node field, AWS VPC CNI and Azure CNI give pods VPC subnet addresses",
    authoritative: () => false,
  },
  "Node.status.addresses": {
    kind: "node",
    objects: "nodes (status.addresses, InternalIP)",
    proves: "the internal address of every node that exists now",
    cannot: "the subnet nodes are added from (only the addresses in use), nor ExternalIPs, which a cloud maps by NAT",
    authoritative: () => false,
  },
  "calico-ippool": {
    kind: "pod",
    objects: "ippools.crd.projectcalico.org",
    proves: "the ranges Calico IPAM addresses pods from, disabled pools included (their pods keep their addresses)",
    cannot: "pods addressed by another IPAM (host-local, a cloud's): authoritative only with cluster.cni: calico",
    authoritative: (cni) => cni === "calico",
  },
  "cilium-node": {
    kind: "pod",
    objects: "ciliumnodes.cilium.io (spec.ipam.podCIDRs)",
    proves: "the pod ranges Cilium's cluster-pool IPAM gave each node",
    cannot: "pods addressed in ENI, Azure or multi-pool mode, or by kubernetes IPAM",
    authoritative: () => false,
  },
  "cilium-podippool": {
    kind: "pod",
    objects: "ciliumpodippools.cilium.io",
    proves: "the ranges Cilium's multi-pool IPAM addresses pods from",
    cannot: "pods addressed by Cilium's other IPAM modes",
    authoritative: () => false,
  },
};

/** One range read from one object. */
export interface Reading {
  readonly source: SourceId;
  readonly cidr: string;
  /** e.g. node/worker-1, servicecidr/kubernetes */
  readonly object: string;
}

interface Meta {
  metadata?: { name?: string };
}
type Obj = Meta & Record<string, unknown>;

const nameOf = (o: Meta): string => o.metadata?.name ?? "(unnamed)";
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const at = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined), o);

/** A CIDR as the apiserver accepted it, or a single address as a host range; anything else is not a reading. */
function asCidr(text: string): string | undefined {
  if (parseCidr(text)) return text;
  const ip = parseIP(text);
  return ip ? `${text}/${ip.family === 4 ? 32 : 128}` : undefined;
}

const readings = (source: SourceId, object: string, values: readonly string[]): Reading[] =>
  values.flatMap((v) => {
    const cidr = asCidr(v);
    return cidr ? [{ source, cidr, object }] : [];
  });

export const readServiceCidr = (o: Obj): Reading[] => readings("ServiceCIDR", `servicecidr/${nameOf(o)}`, strings(at(o, "spec", "cidrs")));

export const readKubernetesService = (o: Obj): Reading[] => {
  const ips = strings(at(o, "spec", "clusterIPs"));
  const ip = at(o, "spec", "clusterIP");
  return readings("kubernetes-service", "service/default/kubernetes", ips.length > 0 ? ips : typeof ip === "string" ? [ip] : []);
};

export const readNode = (o: Obj): Reading[] => {
  const node = `node/${nameOf(o)}`;
  const podCIDRs = strings(at(o, "spec", "podCIDRs"));
  const single = at(o, "spec", "podCIDR");
  const addresses = (Array.isArray(at(o, "status", "addresses")) ? (at(o, "status", "addresses") as unknown[]) : [])
    .filter((a) => at(a, "type") === "InternalIP")
    .map((a) => at(a, "address"))
    .filter((a): a is string => typeof a === "string");
  return [...readings("Node.spec.podCIDRs", node, podCIDRs.length > 0 ? podCIDRs : typeof single === "string" ? [single] : []), ...readings("Node.status.addresses", node, addresses)];
};

export const readCalicoIpPool = (o: Obj): Reading[] => {
  const cidr = at(o, "spec", "cidr");
  return readings("calico-ippool", `ippool/${nameOf(o)}`, typeof cidr === "string" ? [cidr] : []);
};

export const readCiliumNode = (o: Obj): Reading[] => readings("cilium-node", `ciliumnode/${nameOf(o)}`, strings(at(o, "spec", "ipam", "podCIDRs")));

export const readCiliumPodIpPool = (o: Obj): Reading[] =>
  readings("cilium-podippool", `ciliumpodippool/${nameOf(o)}`, [...strings(at(o, "spec", "ipv4", "cidrs")), ...strings(at(o, "spec", "ipv6", "cidrs"))]);

/** Each source's reader, by the source ids it yields. */
export const READERS = {
  servicecidrs: readServiceCidr,
  kubernetesService: readKubernetesService,
  nodes: readNode,
  calicoIpPools: readCalicoIpPool,
  ciliumNodes: readCiliumNode,
  ciliumPodIpPools: readCiliumPodIpPool,
} as const;
