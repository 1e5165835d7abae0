import type { CaBundle, CertificateInfo } from "../certs/files.js";
import type { ClusterFacts, LoadedConfig } from "../policies/index.js";

/** Cluster facts for the engine; the controller's namespace cache provides them once it runs. */
export type FactsProvider = () => ClusterFacts;

/** The optional pod guard (`serve --pod-guard`): may a Pod be created in this namespace now? */
export type PodGuardHook = (namespace: string | undefined) => Promise<{ allowed: boolean; message?: string; warning?: string } | undefined>;

/** Something the server waits for before it is ready: why it is not there yet, or undefined once it is. */
export type ReadinessCheck = () => string | undefined;

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

  /** netguard's own username once learned from the cluster (it may arrive after startup); privileged from then on. */
  ownUsername: () => string | undefined = () => undefined;
  /** More conditions for readiness (netguard's own identity, self-managed certificates). */
  readonly readinessChecks: ReadinessCheck[] = [];
  private withOwn: { own: string; users: readonly string[] } | undefined;

  constructor(
    config?: LoadedConfig,
    readonly facts: FactsProvider = () => ({}),
    /** Usernames treated as privileged besides privilegedGroups (--privileged-user). */
    private readonly givenUsers: readonly string[] = [],
  ) {
    this.config = config;
  }

  /** Usernames treated as privileged besides privilegedGroups: the given ones and netguard's own. */
  get privilegedUsers(): readonly string[] {
    const own = this.ownUsername();
    if (own === undefined || this.givenUsers.includes(own)) return this.givenUsers;
    if (this.withOwn?.own !== own) this.withOwn = { own, users: [...this.givenUsers, own] };
    return this.withOwn.users;
  }

  /** Why the server is not ready; empty when it is. */
  notReadyReasons(now = new Date()): string[] {
    const reasons: string[] = [];
    if (!this.config && this.configProblems.length === 0) reasons.push("no valid configuration loaded");
    if (!this.certificate) reasons.push("no serving certificate loaded");
    else if (this.certificate.notAfter <= now) reasons.push(`serving certificate expired at ${this.certificate.notAfter.toISOString()}`);
    for (const check of this.readinessChecks) {
      const reason = check();
      if (reason) reasons.push(reason);
    }
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
