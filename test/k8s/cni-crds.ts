/** The vendored Cilium and Calico CRDs (manifests/crds/upstream, SOURCES.md) installed into a harness cluster. */
import { join } from "node:path";
import { repoRoot } from "../helpers/paths.js";
import type { KubectlResult } from "./kubectl.js";

export const CNI_CRD_FILES = [
  "cilium/ciliumnetworkpolicies.yaml",
  "cilium/ciliumclusterwidenetworkpolicies.yaml",
  "calico/crd.projectcalico.org_networkpolicies.yaml",
  "calico/crd.projectcalico.org_globalnetworkpolicies.yaml",
];
const NAMES = ["ciliumnetworkpolicies.cilium.io", "ciliumclusterwidenetworkpolicies.cilium.io", "networkpolicies.crd.projectcalico.org", "globalnetworkpolicies.crd.projectcalico.org"];

/** Creates the CRDs (create, not apply: Cilium's are too large for the last-applied annotation) and waits until served. */
export async function installCniCrds(kubectl: (args: readonly string[]) => Promise<KubectlResult>): Promise<void> {
  const files = CNI_CRD_FILES.flatMap((f) => ["-f", join(repoRoot, "manifests/crds/upstream", f)]);
  const created = await kubectl(["create", ...files]);
  if (created.code !== 0) throw new Error(`installing the CNI CRDs: ${created.stderr}`);
  const ready = await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...NAMES.map((n) => `crd/${n}`)]);
  if (ready.code !== 0) throw new Error(`the CNI CRDs were not established: ${ready.stderr}`);
}
