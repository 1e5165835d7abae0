import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiErrorMessage, apiStatus } from "./client.js";

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

export interface OwnIdentity {
  /** netguard's username in the cluster, once learned. */
  readonly username: string | undefined;
  /** Why the replica is not ready: the username is still being asked for. Undefined once learned (or given up). */
  readonly pending: string | undefined;
  stop(): void;
}

export interface LearnOptions {
  log: Logger;
  /** The first retry waits this long; each next one twice as long, up to maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Asks for netguard's own username until the apiserver answers: a replica that starts while the apiserver
 * is unreachable would otherwise run without its privileged self for its whole life, and deny the leader's
 * own writes whenever the apiserver routed them to it. The first attempt is awaited; later ones back off.
 * An answer that cannot change by retrying (SelfSubjectReview forbidden or not served) ends the retries
 * with an error: `--privileged-user` names the identity then.
 */
export async function learnOwnUsername(kc: KubeConfig, o: LearnOptions): Promise<OwnIdentity> {
  const state: { username?: string; pending?: string; timer?: NodeJS.Timeout; stopped: boolean } = { stopped: false };
  let delay = o.minDelayMs ?? 250;
  const attempt = async (): Promise<void> => {
    const giveUp = (why: string) => {
      state.pending = undefined;
      o.log.error({ err: why }, "cannot learn netguard's own identity from the cluster; name it with --privileged-user");
    };
    try {
      const username = await ownUsername(kc);
      if (!username) return giveUp("the SelfSubjectReview named no username");
      state.username = username;
      state.pending = undefined;
      o.log.info({ username }, "netguard's own identity counts as privileged");
      return;
    } catch (error) {
      const status = apiStatus(error);
      if (status === 403 || status === 404) return giveUp(apiErrorMessage(error));
      state.pending = `netguard's own username is not known yet (SelfSubjectReview: ${apiErrorMessage(error)}); retrying`;
      o.log.warn({ err: apiErrorMessage(error), retryInMs: delay }, "could not learn netguard's own identity yet; retrying");
    }
    if (state.stopped) return;
    state.timer = setTimeout(() => void attempt(), delay);
    state.timer.unref();
    delay = Math.min(delay * 2, o.maxDelayMs ?? 5000);
  };
  await attempt();
  return {
    get username() {
      return state.username;
    },
    get pending() {
      return state.pending;
    },
    stop: () => {
      state.stopped = true;
      clearTimeout(state.timer);
    },
  };
}
