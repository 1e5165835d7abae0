import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { DESCRIPTOR_CONFIGMAP, DESCRIPTOR_KEY, readDescriptor, type LoadedConfig, type PeerDescriptor, type RemoteCluster } from "../../policies/index.js";
import { getJson } from "../../kube/raw.js";
import { apiErrorMessage, apiStatus } from "../../kube/client.js";
import { PEERS_CONFIGMAP, writeTopologyConfigMap } from "../topology/configmaps.js";
import type { ControllerMetrics } from "./metrics.js";

export interface PeerImportDeps {
  core: k8s.CoreV1Api;
  /** netguard's namespace: the Secrets named by descriptorFrom, and the ConfigMap the imports are kept in. */
  namespace: string;
  config: () => LoadedConfig;
  /** The imports stored last (by any leader): kept until a read succeeds, so a restart forgets no descriptor. */
  stored: () => ReadonlyMap<string, PeerDescriptor>;
  log: Logger;
  metrics: ControllerMetrics;
  /** Every remote's descriptor is read this often (`serve --descriptor-refresh`, default 60 s). */
  refreshMs?: number;
}

const READ_TIMEOUT_MS = 10_000;

/**
 * The leader's import of the remotes' descriptors (remoteClusters[].descriptorFrom): every refresh it reads each
 * remote's published ConfigMap with the kubeconfig in the named Secret and stores the result, last known
 * descriptor included when a read fails, in ConfigMap netguard-peer-descriptors for every replica.
 */
export class PeerImporter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: PeerImportDeps) {}

  start(): void {
    void this.trigger();
  }

  /** Reads every remote now (the config changed, or a test asks); joins a round already running. */
  trigger(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.trigger(), this.deps.refreshMs ?? 60_000);
      this.timer.unref();
    });
    return this.running;
  }

  private async kubeconfigOf(remote: RemoteCluster): Promise<k8s.KubeConfig> {
    const from = remote.descriptorFrom!;
    let secret: k8s.V1Secret;
    try {
      secret = await this.deps.core.readNamespacedSecret({ name: from.secretName, namespace: this.deps.namespace });
    } catch (error) {
      throw new Error(`Secret ${this.deps.namespace}/${from.secretName}: ${apiErrorMessage(error)}`);
    }
    const encoded = secret.data?.[from.key];
    if (encoded === undefined) throw new Error(`Secret ${this.deps.namespace}/${from.secretName} has no key ${from.key}`);
    const kc = new k8s.KubeConfig();
    try {
      kc.loadFromString(Buffer.from(encoded, "base64").toString("utf8"));
    } catch (error) {
      throw new Error(`Secret ${this.deps.namespace}/${from.secretName} key ${from.key} is not a kubeconfig: ${(error as Error).message}`);
    }
    if (!kc.getCurrentCluster()) throw new Error(`the kubeconfig in Secret ${this.deps.namespace}/${from.secretName} has no current cluster`);
    return kc;
  }

  private async read(remote: RemoteCluster, last: PeerDescriptor | undefined, now: Date): Promise<PeerDescriptor> {
    const from = remote.descriptorFrom!;
    const kept = last?.descriptor && last.readAt ? { descriptor: last.descriptor, readAt: last.readAt } : {};
    const path = `/api/v1/namespaces/${from.namespace}/configmaps/${DESCRIPTOR_CONFIGMAP}`;
    try {
      const kc = await this.kubeconfigOf(remote);
      let cm: { data?: Record<string, string> };
      try {
        cm = await getJson(kc, path, {}, READ_TIMEOUT_MS);
      } catch (error) {
        const status = apiStatus(error);
        throw new Error(`${kc.getCurrentCluster()!.server}: ${status === 404 ? `no ConfigMap ${from.namespace}/${DESCRIPTOR_CONFIGMAP} (is netguard running there?)` : apiErrorMessage(error)}`);
      }
      const text = cm.data?.[DESCRIPTOR_KEY];
      if (text === undefined) throw new Error(`ConfigMap ${from.namespace}/${DESCRIPTOR_CONFIGMAP} has no key ${DESCRIPTOR_KEY}`);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        throw new Error(`the descriptor is not JSON: ${(error as Error).message}`);
      }
      const read = readDescriptor(document);
      if (!read.ok) throw new Error(`the descriptor is invalid: ${read.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
      return { descriptor: read.descriptor, readAt: now.toISOString(), attemptedAt: now.toISOString() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.metrics.descriptorImportFailures.inc({ remote: remote.name });
      if (last?.error !== message) this.deps.log.warn({ remote: remote.name, err: message, lastReadAt: last?.readAt }, "could not read a remote's descriptor; keeping the last known one");
      return { ...kept, error: message, attemptedAt: now.toISOString() };
    }
  }

  private async round(): Promise<void> {
    const remotes = this.deps.config().config.remoteClusters.filter((r) => r.descriptorFrom);
    const stored = this.deps.stored();
    if (remotes.length === 0 && stored.size === 0) return;
    const now = new Date();
    const results = await Promise.all(remotes.map(async (r) => [r.name, await this.read(r, stored.get(r.name), now)] as const));
    if (this.stopped) return;
    const data = Object.fromEntries(results.map(([name, peer]) => [`${name}.json`, JSON.stringify(peer)]));
    try {
      await writeTopologyConfigMap(this.deps.core, this.deps.namespace, PEERS_CONFIGMAP, data);
    } catch (error) {
      this.deps.log.warn({ err: apiErrorMessage(error) }, "could not store the remotes' descriptors; retrying on the next refresh");
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
