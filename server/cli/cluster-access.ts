import type { KubeClients } from "../../kube/client.js";

/** The clients for --kubeconfig and --context; undefined (after saying why on stderr) when they cannot be loaded. */
export async function clusterClients(command: string, values: { kubeconfig?: string; context?: string }): Promise<KubeClients | undefined> {
  const { loadKubeConfig, kubeClients } = await import("../../kube/client.js");
  try {
    const kc = loadKubeConfig(values.kubeconfig);
    if (values.context) kc.setCurrentContext(values.context);
    if (!kc.getCurrentCluster()) throw new Error(values.context ? `no cluster for context "${values.context}"` : "no current cluster in the kubeconfig");
    return kubeClients(kc);
  } catch (error) {
    process.stderr.write(`netguard ${command}: cannot load cluster credentials: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
}
