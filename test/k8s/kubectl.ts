import { spawn } from "node:child_process";
import { join } from "node:path";
import { buildBinaries } from "./cluster.js";

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let binary: Promise<string> | undefined;
/** The kubectl built with kube-apiserver and etcd (build.sh): the apiserver's own version, nothing to install. */
export const kubectlBinary = (): Promise<string> => (binary ??= buildBinaries().then((bin) => join(bin, "kubectl")));

/** Runs the real kubectl against a kubeconfig; never throws on a non-zero exit. */
export async function kubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<KubectlResult> {
  const command = await kubectlBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(command, ["--kubeconfig", kubeconfig, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}
