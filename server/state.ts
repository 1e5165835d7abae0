import type { CaBundle, CertificateInfo } from "../certs/files.js";
import type { ClusterFacts, LoadedConfig } from "../policies/index.js";

/** Cluster facts for the engine; the controller's namespace cache provides them once it runs. */
export type FactsProvider = () => ClusterFacts;

/** The optional pod guard (`serve --pod-guard`): may a Pod be created in this namespace now? */
export type PodGuardHook = (namespace: string | undefined) => Promise<{ allowed: boolean; message?: string; warning?: string } | undefined>;

/** What the server runs on right now: swapped whole on reload, read once per request. */
export class ServerState {
  config: LoadedConfig | undefined;
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
    if (!this.config) reasons.push("no valid configuration loaded");
    if (!this.certificate) reasons.push("no serving certificate loaded");
    else if (this.certificate.notAfter <= now) reasons.push(`serving certificate expired at ${this.certificate.notAfter.toISOString()}`);
    if (this.closing) reasons.push("shutting down");
    return reasons;
  }
}
