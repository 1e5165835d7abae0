import type * as k8s from "@kubernetes/client-node";
import { listAll } from "../../kube/raw.js";
import { apiStatus } from "../../kube/client.js";

interface Resource {
  path: string;
  apiVersion: string;
  kind: string;
  /** Read only when the preferred resource is not served. */
  fallback?: Resource;
}

const calico = (plural: string, kind: string): Resource => ({
  path: `/apis/projectcalico.org/v3/${plural}`,
  apiVersion: "projectcalico.org/v3",
  kind,
  // Without the Calico API server, calicoctl (Kubernetes datastore) writes the backing CRDs directly. With it, the
  // backing objects are the same policies again, so they are read only when v3 is not served.
  fallback: { path: `/apis/crd.projectcalico.org/v1/${plural}`, apiVersion: "crd.projectcalico.org/v1", kind },
});

/** The CNI policy kinds an audit reads, where the cluster serves them (docs/cni-policies.md). */
export const CNI_POLICY_RESOURCES: readonly Resource[] = [
  { path: "/apis/cilium.io/v2/ciliumnetworkpolicies", apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy" },
  { path: "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", apiVersion: "cilium.io/v2", kind: "CiliumClusterwideNetworkPolicy" },
  calico("networkpolicies", "NetworkPolicy"),
  calico("globalnetworkpolicies", "GlobalNetworkPolicy"),
];

/** One resource's objects, each with its apiVersion and kind (a list's items carry neither); [] where nothing serves it. */
function listResource(kc: k8s.KubeConfig, { path, apiVersion, kind, fallback }: Resource, limit: number | undefined): Promise<unknown[]> {
  return listAll<k8s.KubernetesObject>(kc, path, limit === undefined ? {} : { limit }).then(
    (list) => list.items.map((item) => ({ ...item, apiVersion, kind })),
    (error: unknown) => {
      if (apiStatus(error) !== 404) throw error;
      return fallback ? listResource(kc, fallback, limit) : [];
    },
  );
}

/** Every Cilium and Calico policy the cluster serves. */
export async function listCniPolicies(kc: k8s.KubeConfig, limit?: number): Promise<unknown[]> {
  return (await Promise.all(CNI_POLICY_RESOURCES.map((resource) => listResource(kc, resource, limit)))).flat();
}
