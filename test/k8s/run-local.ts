/** `make run`: a real local cluster with netguard registered as its webhook, in the foreground until Ctrl-C. */
import { dirname } from "node:path";
import { kubectlBinary } from "./kubectl.js";
import { startNetguardEnv } from "./netguard-env.js";

// Audit scans every 30 s instead of 5 min, so the reports of example 4 follow the examples above.
const env = await startNetguardEnv({ echoLogs: true, policyReportCrds: true, extraServeArgs: ["--audit-interval", "30"] });
const { kubeconfig } = env.cluster;
process.stdout.write(`
netguard is enforcing on a local kube-apiserver (${env.cluster.server}, with kube-controller-manager), webhook at ${env.url}.

  export KUBECONFIG=${kubeconfig}
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

Config: ${env.configPath} (hot-reloaded). Ctrl-C stops everything.
`);

const shutdown = async (): Promise<void> => {
  process.stdout.write("\nstopping netguard, kube-controller-manager, kube-apiserver and etcd...\n");
  await env.stop();
  process.exit(0);
};
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());
