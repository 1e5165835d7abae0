import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import { baselineStatus, isManagedPolicy, type LoadedConfig } from "../../policies/index.js";
import { apiErrorMessage, apiStatus } from "../../kube/client.js";
import { getJson } from "../../kube/raw.js";
import type { Cache } from "./informer.js";

export type PodGuardVerdict = { allowed: true; warning?: string } | { allowed: false; message: string };

export interface PodGuardDeps {
  kc: k8s.KubeConfig;
  namespaces: Cache<k8s.V1Namespace>;
  /** True once the namespace cache holds a full list: before that, a namespace missing from it says nothing. */
  synced: () => boolean;
  config: () => LoadedConfig;
  log: Logger;
  decisions: Counter<"decision">;
  /** How long a seen baseline is trusted without asking again (default 5 min). */
  trustMs?: number;
  /** Budget for asking the apiserver; past it the pod is let through (default 1.5 s). */
  lookupTimeoutMs?: number;
}

/**
 * The optional guard for the unprotected window (`netguard serve --pod-guard`): a Pod created in a
 * namespace whose baseline NetworkPolicy is not in place yet is refused with a message that says to
 * retry. Workload controllers (ReplicaSet, Job) retry by themselves, so the pod starts a moment
 * later, isolated from its first packet.
 *
 * Every replica answers webhooks but only the leader watches NetworkPolicies, so the guard asks the
 * apiserver for the one baseline, and remembers namespaces whose baseline it has seen. It fails
 * open: when the apiserver does not answer in time, the pod is admitted (and counted), and so it is
 * until the namespace cache has synced, since only the cache tells an opted-out namespace from a new one.
 */
export class PodGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly deps: PodGuardDeps) {
    deps.namespaces.on("delete", (ns) => this.seen.delete(ns.metadata?.name ?? ""));
  }

  async check(namespace: string | undefined): Promise<PodGuardVerdict> {
    const { config } = this.deps.config();
    const allow = (decision: string, warning?: string): PodGuardVerdict => {
      this.deps.decisions.inc({ decision });
      return warning ? { allowed: true, warning } : { allowed: true };
    };
    if (!namespace || !config.baseline.enabled) return allow("not-applicable");
    if (!this.deps.synced()) return allow("not-synced");
    const ns = this.deps.namespaces.get(namespace);
    // A namespace missing from the cache was created a moment ago: it is judged by its baseline.
    if (ns && baselineStatus(ns as never, config) !== "protected") return allow("not-applicable");
    const seenAt = this.seen.get(namespace);
    if (seenAt !== undefined && Date.now() - seenAt < (this.deps.trustMs ?? 5 * 60_000)) return allow("protected");

    const name = config.baseline.name;
    try {
      const policy = await getJson<k8s.V1NetworkPolicy>(
        this.deps.kc,
        `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies/${encodeURIComponent(name)}`,
        {},
        this.deps.lookupTimeoutMs ?? 1500,
      );
      if (isManagedPolicy(policy as never)) {
        this.seen.set(namespace, Date.now());
        return allow("protected");
      }
      // Someone else's policy holds the baseline's name: netguard leaves it alone and never creates the baseline
      // there (netguard_baseline_name_taken), so waiting would never end. Admit, and say why.
      return allow(
        "name-taken",
        `pod-guard: no baseline in ${namespace}: netguard did not make the NetworkPolicy ${name} there and leaves it alone`,
      );
    } catch (error) {
      if (apiStatus(error) !== 404) {
        this.deps.log.warn({ namespace, err: apiErrorMessage(error) }, "pod guard could not check the baseline; admitting the pod");
        return allow("lookup-failed");
      }
    }
    const message =
      `namespace ${namespace} is not protected yet: netguard's baseline NetworkPolicy ${name} is not in place, ` +
      "so this pod would start without network isolation. netguard creates it within moments of the namespace; retry in a few seconds " +
      "(workload controllers such as Deployments retry by themselves).";
    if (config.mode === "audit") return allow("audited", `audit, would deny: pod-guard: ${message}`);
    this.deps.decisions.inc({ decision: "denied" });
    return { allowed: false, message };
  }
}
