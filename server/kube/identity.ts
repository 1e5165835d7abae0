import type { KubeConfig } from "@kubernetes/client-node";

/**
 * The username this process authenticates as (SelfSubjectReview), so netguard's own changes to managed
 * objects count as privileged whatever credential the kubeconfig or service account holds.
 */
export async function ownUsername(kc: KubeConfig, timeoutMs = 5000): Promise<string | undefined> {
  const { AuthenticationV1Api } = await import("@kubernetes/client-node");
  const api = kc.makeApiClient(AuthenticationV1Api);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${kc.getCurrentCluster()?.server ?? "the apiserver"} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const review = await Promise.race([api.createSelfSubjectReview({ body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } }), timeout]);
    return review.status?.userInfo?.username;
  } finally {
    clearTimeout(timer);
  }
}
