/**
 * The API resources the topology is discovered from, which of them this cluster serves, and a one-shot
 * discovery by listing them (`netguard describe-cluster`, `netguard audit`). The leader watches the same
 * resources instead (server/controller/topology-discovery.ts).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { liveTopology, READERS, type LiveTopology, type Reading, type SourceId, type SourceState } from "../../policies/index.js";
import { getJson, listAll } from "../../kube/raw.js";
import { apiErrorMessage, apiStatus } from "../../kube/client.js";

export interface ApiSource {
  readonly sources: readonly SourceId[];
  readonly groupVersion: string;
  readonly resource: string;
  readonly read: (o: never) => Reading[];
}

export const API_SOURCES: readonly ApiSource[] = [
  { sources: ["ServiceCIDR"], groupVersion: "networking.k8s.io/v1", resource: "servicecidrs", read: READERS.servicecidrs },
  { sources: ["Node.spec.podCIDRs", "Node.status.addresses"], groupVersion: "v1", resource: "nodes", read: READERS.nodes },
  { sources: ["calico-ippool"], groupVersion: "crd.projectcalico.org/v1", resource: "ippools", read: READERS.calicoIpPools },
  { sources: ["cilium-node"], groupVersion: "cilium.io/v2", resource: "ciliumnodes", read: READERS.ciliumNodes },
  { sources: ["cilium-podippool"], groupVersion: "cilium.io/v2alpha1", resource: "ciliumpodippools", read: READERS.ciliumPodIpPools },
];

export const KUBERNETES_SERVICE_PATH = "/api/v1/namespaces/default/services/kubernetes";

export const collectionPath = (s: ApiSource): string => `${s.groupVersion === "v1" ? "/api" : "/apis"}/${s.groupVersion}/${s.resource}`;

export type Served = { state: "served" } | { state: "absent" } | { state: "failed"; error: string };

/** Which sources the apiserver serves, from its discovery documents (one GET per group version). */
export async function servedSources(kc: KubeConfig): Promise<Map<ApiSource, Served>> {
  const versions = [...new Set(API_SOURCES.map((s) => s.groupVersion))];
  const answers = new Map<string, Served | Set<string>>();
  await Promise.all(
    versions.map(async (gv) => {
      try {
        const doc = await getJson<{ resources?: { name?: string }[] }>(kc, gv === "v1" ? "/api/v1" : `/apis/${gv}`, {}, 10_000);
        answers.set(gv, new Set((doc.resources ?? []).map((r) => r.name ?? "")));
      } catch (error) {
        answers.set(gv, apiStatus(error) === 404 ? { state: "absent" } : { state: "failed", error: apiErrorMessage(error) });
      }
    }),
  );
  return new Map(
    API_SOURCES.map((s) => {
      const answer = answers.get(s.groupVersion)!;
      return [s, answer instanceof Set ? (answer.has(s.resource) ? { state: "served" } : { state: "absent" }) : answer];
    }),
  );
}

/** The source states of every API source (and the kubernetes Service fallback) from what was served and read. */
export function sourceStates(served: ReadonlyMap<ApiSource, Served>, failures: ReadonlyMap<ApiSource, string> = new Map()): SourceState[] {
  return [...served].flatMap(([s, answer]) =>
    s.sources.map((source): SourceState => {
      const failed = failures.get(s) ?? (answer.state === "failed" ? answer.error : undefined);
      return failed !== undefined ? { source, state: "failed", error: failed } : { source, state: answer.state === "served" ? "served" : "absent" };
    }),
  );
}

/** Where ServiceCIDR is not served: the kubernetes Service's ClusterIP, the one service address every cluster has. */
export async function readKubernetesService(kc: KubeConfig): Promise<{ readings: Reading[]; state: SourceState }> {
  try {
    const svc = await getJson<Record<string, unknown>>(kc, KUBERNETES_SERVICE_PATH, {}, 10_000);
    return { readings: READERS.kubernetesService(svc as never), state: { source: "kubernetes-service", state: "served" } };
  } catch (error) {
    return { readings: [], state: { source: "kubernetes-service", state: "failed", error: apiErrorMessage(error) } };
  }
}

/** Lists every served source once: the live topology as of now. */
export async function discoverOnce(kc: KubeConfig, limit = 500): Promise<LiveTopology> {
  const served = await servedSources(kc);
  const readings: Reading[] = [];
  const failures = new Map<ApiSource, string>();
  await Promise.all(
    [...served].map(async ([s, answer]) => {
      if (answer.state !== "served") return;
      try {
        const list = await listAll<never>(kc, collectionPath(s), { limit });
        for (const o of list.items) readings.push(...s.read(o));
      } catch (error) {
        failures.set(s, apiErrorMessage(error));
      }
    }),
  );
  const states = sourceStates(served, failures);
  if (served.get(API_SOURCES[0]!)?.state !== "served") {
    const fallback = await readKubernetesService(kc);
    readings.push(...fallback.readings);
    states.push(fallback.state);
  }
  return liveTopology(readings, states);
}
