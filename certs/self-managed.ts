import { X509Certificate } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiErrorMessage, apiStatus, type KubeClients } from "../kube/client.js";
import { injectCaBundle } from "./ca-bundle.js";
import { loadServingCert, pemCertificates, servingFilePaths, writeServingFiles } from "./files.js";
import { advance, type CertState, type Generation, type RotationPolicy } from "./rotation.js";

export interface SelfManagedCertsOptions {
  clients: Pick<KubeClients, "core" | "admissionRegistration">;
  /** Where netguard runs: the Secret and the Service live here. */
  namespace: string;
  /** Shipped empty by the manifests; netguard may read and update only this one Secret, and recreate it when deleted. */
  secretName?: string;
  serviceName?: string;
  /** metadata.name of the Validating and the Mutating webhook configuration. */
  webhookConfigurationName?: string;
  /** Where tls.crt and tls.key are written for the server (an emptyDir in the pod). */
  dir: string;
  /** IP addresses the serving certificate is also valid for (URL-mode webhooks, tests). */
  ips?: readonly string[];
  log: Logger;
  /** How often every replica reads the Secret. */
  syncMs?: number;
  validityMs?: number;
  renewBeforeMs?: number;
  /** See RotationPolicy.overlapMs; several syncMs, so every replica has switched before an old CA is dropped. */
  overlapMs?: number;
  /** How long startup waits for a first certificate before serving a stand-in pair, not ready (default 10 s). */
  startupTimeoutMs?: number;
}

export interface SelfManagedCerts {
  certPath: string;
  keyPath: string;
  /** Why the pair served is not (yet) one from the Secret; undefined once it is. A replica is not ready meanwhile. */
  pending(): string | undefined;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;
const ANNOTATION_SINCE = "netguard.dev/ca-bundle-since";
const KEYS = { cert: "tls.crt", key: "tls.key", ca: "ca.crt", bundle: "ca-bundle.crt", nextCert: "next.crt", nextKey: "next.key", nextCa: "next-ca.crt" } as const;

const b64 = (text: string) => Buffer.from(text).toString("base64");
const unb64 = (data: Record<string, string> | undefined, key: string) => (data?.[key] ? Buffer.from(data[key], "base64").toString("utf8") : undefined);

function decode(secret: k8s.V1Secret): CertState | undefined {
  const field = (key: string) => unb64(secret.data, key);
  const generation = (cert?: string, key?: string, ca?: string): Generation | undefined => {
    const caPem = ca && pemCertificates(ca)[0];
    return cert && key && caPem ? { cert, key, ca: caPem } : undefined;
  };
  const active = generation(field(KEYS.cert), field(KEYS.key), field(KEYS.ca));
  if (!active) return undefined;
  const since = Date.parse(secret.metadata?.annotations?.[ANNOTATION_SINCE] ?? "");
  return {
    active,
    next: generation(field(KEYS.nextCert), field(KEYS.nextKey), field(KEYS.nextCa)),
    bundle: pemCertificates(field(KEYS.bundle) ?? active.ca),
    since: Number.isNaN(since) ? 0 : since,
  };
}

function encode(secret: k8s.V1Secret, state: CertState): k8s.V1Secret {
  const data: Record<string, string> = {
    [KEYS.cert]: b64(state.active.cert),
    [KEYS.key]: b64(state.active.key),
    [KEYS.ca]: b64(state.active.ca),
    [KEYS.bundle]: b64(state.bundle.join("")),
  };
  if (state.next) Object.assign(data, { [KEYS.nextCert]: b64(state.next.cert), [KEYS.nextKey]: b64(state.next.key), [KEYS.nextCa]: b64(state.next.ca) });
  // The resourceVersion read comes along: the update is a compare-and-swap, so of two replicas
  // advancing from the same version only one succeeds and the other adopts its certificates.
  return { ...secret, metadata: { ...secret.metadata, annotations: { ...secret.metadata?.annotations, [ANNOTATION_SINCE]: new Date(state.since).toISOString() } }, data };
}

/**
 * Certificates without cert-manager. Every replica runs this: it reads the Secret, moves the rotation on
 * when due (compare-and-swap on the Secret, so no leader is needed and a replica can start before any
 * election), writes the active pair to `dir` (the server reloads it), and keeps the caBundle of both
 * webhook configurations equal to the Secret's. Resolves once `dir` holds a pair to serve.
 */
export async function startSelfManagedCerts(o: SelfManagedCertsOptions): Promise<SelfManagedCerts> {
  const { core, admissionRegistration } = o.clients;
  const { namespace, log } = o;
  const secretName = o.secretName ?? "netguard-tls";
  const service = o.serviceName ?? "netguard";
  const webhooks = o.webhookConfigurationName ?? "netguard";
  const syncMs = o.syncMs ?? 10_000;
  const policy: RotationPolicy = {
    dnsNames: [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`],
    ips: o.ips ?? [],
    validityMs: o.validityMs ?? 365 * DAY_MS,
    renewBeforeMs: o.renewBeforeMs ?? 90 * DAY_MS,
    overlapMs: o.overlapMs ?? 12 * syncMs,
  };
  let served: string | undefined;
  let paths: { cert: string; key: string } | undefined;
  /** The certificates last read from (or written to) the Secret: what every replica serves. */
  let known: CertState | undefined;

  const readSecret = async (): Promise<k8s.V1Secret | undefined> => {
    try {
      return await core.readNamespacedSecret({ name: secretName, namespace });
    } catch (error) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  };

  /**
   * A deleted Secret is created again: with the certificates in use when this replica knows them (nothing
   * changes for the webhooks or the other replicas), else with a new pair. Undefined when another replica
   * created it first (adopted on the next sync).
   */
  const recreateSecret = async (): Promise<k8s.V1Secret | undefined> => {
    const state = known ?? (await advance(undefined, Date.now(), policy, false))!.state;
    const blank: k8s.V1Secret = { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: secretName, namespace, labels: { "app.kubernetes.io/name": "netguard" } } };
    try {
      const created = await core.createNamespacedSecret({ namespace, body: encode(blank, state) });
      log.warn({ secret: `${namespace}/${secretName}`, reused: Boolean(known) }, known ? "the certificates' Secret was missing; recreated it with the certificates in use" : "the certificates' Secret was missing; created it with a new CA and serving certificate");
      return created;
    } catch (error) {
      if (apiStatus(error) !== 409) throw error;
      return undefined;
    }
  };

  const sync = async (): Promise<void> => {
    const secret = (await readSecret()) ?? (await recreateSecret());
    if (!secret) return;
    let state = decode(secret);
    const bundleCurrent = state ? await injectCaBundle(admissionRegistration, webhooks, state.bundle.join(""), log) : false;
    const step = await advance(state, Date.now(), policy, bundleCurrent);
    if (step) {
      try {
        await core.replaceNamespacedSecret({ name: secretName, namespace, body: encode(secret, step.state) });
      } catch (error) {
        if (apiStatus(error) !== 409) throw error;
        log.debug("another replica updated the certificates first; adopting them on the next sync");
        return;
      }
      state = step.state;
      log.info({ secret: `${namespace}/${secretName}`, notAfter: new X509Certificate(state.active.cert).validTo, trustedCAs: state.bundle.length }, step.what);
      await injectCaBundle(admissionRegistration, webhooks, state.bundle.join(""), log);
    }
    known = state;
    if (state && state.active.cert !== served) {
      paths = await writeServingFiles(o.dir, state.active);
      served = state.active.cert;
    }
  };

  let pending: string | undefined;
  const started = Date.now();
  for (;;) {
    try {
      await sync();
      if (paths) break;
    } catch (error) {
      if (Date.now() - started > (o.startupTimeoutMs ?? 10_000)) {
        // Exiting would crash-loop the pod and, once every replica does, fail the webhooks closed: serve, not ready.
        pending = `no serving certificate from Secret ${namespace}/${secretName} yet (${apiErrorMessage(error)}); retrying`;
        paths = await standInPair(o.dir, policy);
        log.error({ err: apiErrorMessage(error), certPath: paths.cert }, "self-managed certificates: none from the Secret yet; serving a stand-in pair, not ready, and retrying");
        break;
      }
      log.warn({ err: apiErrorMessage(error) }, "self-managed certificates: not ready yet; retrying");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    timer = setTimeout(
      () => {
        running = sync()
          .then(() => {
            if (pending && served) log.info("self-managed certificates: serving the Secret's pair; ready");
            if (served) pending = undefined;
          })
          .catch((error: unknown) => {
            if (pending) pending = `no serving certificate from Secret ${namespace}/${secretName} yet (${apiErrorMessage(error)}); retrying`;
            log.warn({ err: apiErrorMessage(error) }, "self-managed certificates: sync failed; serving the current pair");
          })
          .finally(() => {
            if (!stopped) loop();
          });
      },
      pending ? Math.min(syncMs, 1000) : syncMs,
    );
    // The server keeps the process alive; this loop alone must not (e.g. when startup fails after it began).
    timer.unref();
  };
  loop();
  const ready = paths!;
  return {
    certPath: ready.cert,
    keyPath: ready.key,
    pending: () => pending,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * What a replica serves when it cannot get the Secret's pair at startup: the pair left in `dir` by an earlier
 * run of this container (the last it had), else a new one from a throwaway CA (which the webhooks do not trust).
 */
async function standInPair(dir: string, policy: RotationPolicy): Promise<{ cert: string; key: string }> {
  const last = servingFilePaths(dir);
  try {
    await loadServingCert(last.cert, last.key);
    return last;
  } catch {
    return writeServingFiles(dir, (await advance(undefined, Date.now(), policy, false))!.state.active);
  }
}
