import type { KubeConfig } from "@kubernetes/client-node";
import type { Cni } from "../../policies/index.js";
import { getJson } from "../../kube/raw.js";

/** API groups whose CRDs each CNI installs: Cilium's cilium.io, Calico's crd.projectcalico.org (the operator's too). */
const GROUPS: readonly [string, "calico" | "cilium"][] = [
  ["cilium.io", "cilium"],
  ["crd.projectcalico.org", "calico"],
];

/** The CNI the cluster's API groups reveal; undefined when none or both are served (nothing provable either way). */
export async function detectCni(kc: KubeConfig): Promise<"calico" | "cilium" | undefined> {
  const discovery = await getJson<{ groups?: { name?: string }[] }>(kc, "/apis", {}, 10_000);
  const served = new Set((discovery.groups ?? []).map((g) => g.name));
  const found = GROUPS.filter(([group]) => served.has(group)).map(([, cni]) => cni);
  return found.length === 1 ? found[0] : undefined;
}

/** A mismatch worth reporting: the config names a CNI and the cluster runs another. */
export const cniMismatch = (declared: Cni, detected: "calico" | "cilium" | undefined): boolean =>
  detected !== undefined && declared !== "generic" && declared !== detected;
