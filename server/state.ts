import type { CaBundle, CertificateInfo } from "../certs/files.js";
import type { ClusterFacts, LoadedConfig } from "../policies/index.js";

/** Cluster facts for the engine; the controller's namespace cache provides them once it runs. */
export type FactsProvider = () => ClusterFacts;

/** The optional pod guard (`serve --pod-guard`): may a Pod be created in this namespace now? */
export type PodGuardHook = (namespace: string | undefined) => Promise<{ allowed: boolean; message?: string; warning?: string } | undefined>;

/** What the server runs on right now: swapped whole on reload, read once per request. */
export class ServerState {
  config: LoadedConfig | undefined;
  /**
   * While serve runs without a config (it started with one it could not load), what is wrong with
   * it, one formatted line each; admissions are then answered unchecked (docs/configuration.md).
   */
  configProblems: readonly string[] = [];
  certificate: CertificateInfo | undefined;
  /** With `serve --client-ca`: who may call the admission routes. */
  clientCa: CaBundle | undefined;
  closing = false;
  /** Set when the pod guard is on; Pod CREATE requests are judged by it. */
  podGuard: PodGuardHook | undefined;

  constructor(
    config?: LoadedConfig,
    readonly facts: FactsProvider = () => ({}),
    /** Usernames treated as privileged besides privilegedGroups, e.g. netguard's own service account. */
    readonly privilegedUsers: readonly string[] = [],
  ) {
    this.config = config;
  }

  /** Why the server is not ready; empty when it is. */
  notReadyReasons(now = new Date()): string[] {
    const reasons: string[] = [];
    if (!this.config && this.configProblems.length === 0) reasons.push("no valid configuration loaded");
    if (!this.certificate) reasons.push("no serving certificate loaded");
    else if (this.certificate.notAfter <= now) reasons.push(`serving certificate expired at ${this.certificate.notAfter.toISOString()}`);
    if (this.closing) reasons.push("shutting down");
    return reasons;
  }

  /** Ready but not enforcing: why, for /readyz; empty when guardrails are on. */
  degradedReasons(): string[] {
    if (this.config || this.configProblems.length === 0) return [];
    const count = this.configProblems.length === 1 ? "1 problem" : `${this.configProblems.length} problems`;
    return [`config invalid (${count}): admitting every request unchecked until it is fixed`, ...this.configProblems];
  }
}
