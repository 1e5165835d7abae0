/**
 * What `make run` starts and prints: the local cluster with netguard, two Node objects created through the API as
 * a cloud would (the default ServiceCIDR is the apiserver's own, from --service-cluster-ip-range), and the
 * examples to try. test/e2e/local-run.test.ts runs the topology examples as printed.
 */
import { dirname, join } from "node:path";
import { kubectlBinary } from "./kubectl.js";
import { startNetguardEnv, type NetguardEnv } from "./netguard-env.js";
import { repoRoot } from "../helpers/paths.js";

/** gcp-west's nodes: pod ranges inside the config's cluster.podCIDRs, addresses inside cluster.nodeCIDRs. */
export const LOCAL_NODES = [
  { name: "gcp-west-pool-1-a", podCIDR: "10.8.0.0/24", address: "10.0.0.10" },
  { name: "gcp-west-pool-1-b", podCIDR: "10.8.1.0/24", address: "10.0.0.11" },
];

const nodeObject = (n: (typeof LOCAL_NODES)[number]) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: n.name, labels: { "topology.kubernetes.io/zone": "local-a" } },
  spec: { podCIDRs: [n.podCIDR] },
  status: { addresses: [{ type: "InternalIP", address: n.address }, { type: "Hostname", address: n.name }] },
});

/** The topology examples (6 and 7), each a shell line; `make run` prints them and the test runs them. */
export function topologyExamples(env: NetguardEnv): { describe: string; drift: string } {
  const cli = join(repoRoot, "dist/server/cli/main.js");
  return {
    describe: `node ${cli} describe-cluster --config ${env.configPath}`,
    drift: `sed -i 's#podCIDRs: \\[10.8.0.0/14,#podCIDRs: [10.8.0.0/24,#' ${env.configPath} && sleep 15 && kubectl get clusterpolicyreport netguard -o jsonpath='{range .results[?(@.rule=="topology-drift")]}{.message}{"\\n  "}{.properties.fix}{"\\n"}{end}'`,
  };
}

export async function startLocalRun(options: { echoLogs?: boolean } = {}): Promise<{ env: NetguardEnv; text: string }> {
  // Audit scans every 30 s instead of 5 min, so the reports of example 4 follow the examples above.
  const env = await startNetguardEnv({ echoLogs: options.echoLogs ?? false, policyReportCrds: true, extraServeArgs: ["--audit-interval", "30"] });
  try {
    const nodes = await env.kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: LOCAL_NODES.map(nodeObject) }));
    if (nodes.code !== 0) throw new Error(`creating the Node objects failed: ${nodes.stderr}`);
  } catch (error) {
    await env.stop();
    throw error;
  }
  const examples = topologyExamples(env);
  const text = `
netguard is enforcing on a local kube-apiserver (${env.cluster.server}, with kube-controller-manager), webhook at ${env.url}.

  export KUBECONFIG=${env.cluster.kubeconfig}
  export PATH=${dirname(await kubectlBinary())}:$PATH   # the kubectl built with the apiserver (any kubectl works)

  # 1. A new namespace gets its cluster label (and, from the controller, its baseline policy):
  kubectl create namespace demo && kubectl get namespace demo --show-labels && kubectl get networkpolicy -n demo

  # 2. A policy naming a NAT-hidden remote CIDR is rejected with the reason and the fix:
  kubectl apply -n demo -f docs/examples/nat-hidden-policy.yaml

  # 3. Audit mode: the same policy is allowed, with the finding as a warning:
  sed -i 's/^mode: enforce/mode: audit/' ${env.configPath} && sleep 1 && kubectl apply -n demo -f docs/examples/nat-hidden-policy.yaml

  # 4. What the audit scan found, as PolicyReports (per namespace) and a ClusterPolicyReport:
  kubectl get policyreports -A && kubectl get clusterpolicyreports -o yaml

  # 5. Deleting a namespace removes everything in it, the baseline included (netguard never blocks cleanup):
  kubectl delete namespace demo

  # 6. This cluster as a remoteClusters[] entry for its peers, from its Nodes (${LOCAL_NODES.map((n) => n.name).join(", ")}) and ServiceCIDR:
  ${examples.describe}

  # 7. Make the config miss a pod range the Nodes use: the drift shows in the ClusterPolicyReport (and the log):
  ${examples.drift}

Config: ${env.configPath} (hot-reloaded). Ctrl-C stops everything.
`;
  return { env, text };
}
