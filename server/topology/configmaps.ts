/**
 * The two ConfigMaps the topology lives in, in netguard's namespace: this cluster's descriptor (peers read it)
 * and the descriptors imported from peers (every replica reads both; only the leader writes).
 */
import type * as k8s from "@kubernetes/client-node";
import { DESCRIPTOR_CONFIGMAP, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../policies/index.js";
import { apiStatus } from "../../kube/client.js";

export const PEERS_CONFIGMAP = "netguard-peer-descriptors";
export const TOPOLOGY_LABEL = "netguard.dev/topology";
export const LABELS = { [DESCRIPTOR_CONFIGMAP]: "descriptor", [PEERS_CONFIGMAP]: "peers" } as const;

const sameData = (a: Record<string, string> | undefined, b: Record<string, string>): boolean => {
  const keys = Object.keys(b);
  return a !== undefined && Object.keys(a).length === keys.length && keys.every((k) => a[k] === b[k]);
};

/** Creates or replaces one of netguard's topology ConfigMaps; "unchanged" when it already holds `data`. */
export async function writeTopologyConfigMap(core: k8s.CoreV1Api, namespace: string, name: keyof typeof LABELS, data: Record<string, string>): Promise<"created" | "updated" | "unchanged"> {
  let current: k8s.V1ConfigMap | undefined;
  try {
    current = await core.readNamespacedConfigMap({ name, namespace });
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
  const metadata = { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TOPOLOGY_LABEL]: LABELS[name] } };
  if (!current) {
    await core.createNamespacedConfigMap({ namespace, body: { apiVersion: "v1", kind: "ConfigMap", metadata, data } });
    return "created";
  }
  if (sameData(current.data, data) && current.metadata?.labels?.[TOPOLOGY_LABEL] === LABELS[name]) return "unchanged";
  await core.replaceNamespacedConfigMap({ name, namespace, body: { apiVersion: "v1", kind: "ConfigMap", metadata: { ...metadata, resourceVersion: current.metadata?.resourceVersion }, data } });
  return "updated";
}
