import { join } from "node:path";
import { spawnCollect, type SpawnResult } from "../helpers/spawn.js";
import { buildBinaries } from "./cluster.js";

export type KubectlResult = SpawnResult;

let binary: Promise<string> | undefined;
/** The kubectl built with kube-apiserver and etcd (build.sh): the apiserver's own version, nothing to install. */
export const kubectlBinary = (): Promise<string> => (binary ??= buildBinaries().then((bin) => join(bin, "kubectl")));

/** Runs the real kubectl against a kubeconfig; never throws on a non-zero exit. */
export async function kubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<KubectlResult> {
  return spawnCollect(await kubectlBinary(), ["--kubeconfig", kubeconfig, ...args], { stdin });
}
