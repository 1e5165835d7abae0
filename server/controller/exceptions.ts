import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { isExpired, readExceptions, type ExceptionFacts, type GuardrailException } from "../../policies/index.js";
import { listAll } from "../../kube/raw.js";
import { watchResource, type WatchedResource } from "./informer.js";

export const EXCEPTIONS_PATH = "/apis/netguard.dev/v1alpha1/guardrailexceptions";
const SOON_MS = 7 * 86_400_000;

/**
 * Every replica's cache of GuardrailExceptions, for the webhook's facts and the audit scan. Stored exceptions that
 * netguard cannot read (written while it was down, past the CRD's schema) waive nothing and are logged once each.
 */
export class ExceptionCache {
  private readonly watched: WatchedResource<k8s.KubernetesObject>;
  private valid: GuardrailException[] | undefined;
  private synced = false;
  private readonly warned = new Set<string>();

  constructor(kc: k8s.KubeConfig, private readonly log: Logger, hooks: { onRestart: () => void; onChange: () => void }) {
    this.watched = watchResource<k8s.KubernetesObject>(kc, EXCEPTIONS_PATH, () => listAll(kc, EXCEPTIONS_PATH) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>, log, {
      onRestart: hooks.onRestart,
    });
    const changed = (): void => {
      this.valid = undefined;
      hooks.onChange();
    };
    for (const event of ["add", "update", "delete"] as const) this.watched.cache.on(event, changed);
    void this.watched.synced.then(() => {
      this.synced = true;
      log.info({ exceptions: this.watched.cache.list().length }, "GuardrailException cache synced");
    });
  }

  /** The objects as stored (the audit reports the invalid ones). */
  stored(): readonly unknown[] | undefined {
    return this.synced ? this.watched.cache.list() : undefined;
  }

  /** The valid exceptions; empty until the first list (exceptions then waive nothing yet). */
  items(): readonly GuardrailException[] {
    if (!this.synced) return [];
    if (this.valid) return this.valid;
    const { items, invalid } = readExceptions(this.watched.cache.list());
    for (const bad of invalid) {
      const key = `${bad.name}\u0000${JSON.stringify(bad.problems)}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.log.warn({ exception: bad.name, problems: bad.problems }, "stored GuardrailException is invalid and waives nothing");
    }
    return (this.valid = items);
  }

  facts(now: Date): ExceptionFacts | undefined {
    return this.synced ? { items: this.items(), now } : undefined;
  }

  /** For the gauges: in force, expired, and in force but expiring within 7 days. */
  counts(now: Date): { active: number; expired: number; expiringSoon: number } {
    const items = this.items();
    const expired = items.filter((e) => isExpired(e, now)).length;
    const expiringSoon = items.filter((e) => !isExpired(e, now) && new Date(e.spec.expiresAt).getTime() - now.getTime() <= SOON_MS).length;
    return { active: items.length - expired, expired, expiringSoon };
  }

  stop(): Promise<void> {
    return this.watched.stop();
  }
}
