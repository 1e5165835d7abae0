import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { loadCaBundle, loadServingCert, type CaBundle, type CertificateInfo, type LoadedServingCert } from "../certs/files.js";
import { watchServingCert } from "../certs/reload.js";
import { temporaryLocalCerts, type TemporaryCerts } from "../certs/self-signed.js";
import { defaultConfig, type ConfigProblem, type LoadedConfig } from "../policies/index.js";
import { buildApp, type App } from "./app.js";
import { formatProblem, loadConfigFile } from "./config/file.js";
import { logConfigNotes, watchConfigFile } from "./config/reload.js";
import { trackConnections } from "./drain.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { ServerState, type FactsProvider, type PodGuardHook, type ReadinessCheck } from "./state.js";
import { watchFiles, type FileWatch } from "../kube/watch-files.js";

export interface StartOptions {
  /**
   * GuardrailConfig file, watched for changes; without it the built-in default config applies. When
   * it is invalid at start, the server runs unchecked until a valid version appears (docs/configuration.md).
   */
  configPath?: string;
  /** Serving certificate and key, watched for changes; without them a throwaway pair for 127.0.0.1 is generated. */
  certPath?: string;
  keyPath?: string;
  /** CA bundle that must have signed the caller's client certificate on the admission routes; watched for changes. */
  clientCaPath?: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  logger: Logger;
  facts?: FactsProvider;
  /** Judges Pod CREATE requests (serve --pod-guard); without it Pods are always admitted. */
  podGuard?: PodGuardHook;
  privilegedUsers?: readonly string[];
  /** netguard's own username, when it is learned after startup (privileged from then on). */
  ownUsername?: () => string | undefined;
  /** More conditions for /readyz besides a valid config and a loaded certificate. */
  readinessChecks?: readonly ReadinessCheck[];
  /** Called after a new config file version is in force (the controller re-checks baselines). */
  onConfigReload?: (loaded: LoadedConfig) => void;
  /** Fallback poll period for config and certificate files. */
  pollMs?: number;
  bodyLimit?: number;
  /** How long shutdown waits for requests in flight before closing their connections. */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  app: App;
  state: ServerState;
  metrics: Metrics;
  port: number;
  url: string;
  /** The CA of the generated pair, when no certificate was given; removed on close. */
  generatedCaPath?: string;
  /** Stops accepting connections, answers the requests in flight, then resolves. */
  close(): Promise<void>;
}

/** Startup cannot go on (unreadable certificate, port in use); the message lists every problem. */
export class StartupError extends Error {}

/**
 * The config to start on. An invalid file does not stop netguard: a config that slipped past the
 * ConfigMap webhook would otherwise crash-loop every replica behind fail-closed webhooks. netguard
 * starts without one instead, admits everything unchecked and loudly, and the watch picks up the fix.
 */
async function initialConfig(path: string | undefined, logger: Logger): Promise<{ loaded?: LoadedConfig; problems: string[] }> {
  if (!path) return { loaded: defaultConfig(), problems: [] };
  const result = await loadConfigFile(path);
  if (result.ok) {
    logConfigNotes(logger, path, result.loaded);
    return { loaded: result.loaded, problems: [] };
  }
  logger.error(
    { path, problems: result.problems },
    "config invalid at start: admitting every request unchecked (no guardrails, no cluster label, no controller) until the file is fixed",
  );
  return { problems: result.problems.map((p) => formatProblem(path, p)) };
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface ServingFiles {
  certPath: string;
  keyPath: string;
  serving: LoadedServingCert;
  generated?: TemporaryCerts;
}

async function servingFiles(options: StartOptions): Promise<ServingFiles> {
  if (Boolean(options.certPath) !== Boolean(options.keyPath)) throw new StartupError("a certificate and its key go together");
  const generated = options.certPath ? undefined : await temporaryLocalCerts();
  if (generated) options.logger.warn({ caPath: generated.caPath }, `no certificate given: generated one for 127.0.0.1 signed by a throwaway CA, ${generated.caPath}`);
  const certPath = options.certPath ?? generated!.certPath;
  const keyPath = options.keyPath ?? generated!.keyPath;
  try {
    return { certPath, keyPath, serving: await loadServingCert(certPath, keyPath), generated };
  } catch (error) {
    await generated?.remove();
    throw new StartupError(`cannot load the serving certificate ${certPath} with key ${keyPath}: ${message(error)}`);
  }
}

/** Reloads the client CA bundle when its file changes; one that does not load is refused and the current one kept. */
function watchClientCa(path: string, apply: (ca: CaBundle) => void, metrics: Metrics, logger: Logger, pollMs?: number): Promise<FileWatch> {
  return watchFiles(
    [path],
    async () => {
      try {
        apply(await loadCaBundle(path));
        metrics.certReloads.inc();
        logger.info({ clientCaPath: path }, "client CA reloaded");
      } catch (error) {
        metrics.certReloadFailures.inc();
        logger.error({ clientCaPath: path, error: message(error) }, "client CA change rejected; keeping the current one");
      }
    },
    { pollMs, onError: (error) => logger.warn({ clientCaPath: path, err: error }, "watching the client CA failed; polling continues") },
  );
}

/** Starts the admission server with config and certificate hot reload: what `netguard serve` runs. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const initial = await initialConfig(options.configPath, logger);
  const { certPath, keyPath, serving, generated } = await servingFiles(options);
  let pair = { cert: serving.cert, key: serving.key };
  // A new secure context replaces the whole TLS context: the client CA goes with every certificate change.
  const applySecureContext = () => app.server.setSecureContext({ ...pair, ...(state.clientCa ? { ca: state.clientCa.pem } : {}) });

  const metrics = createMetrics();
  const state = new ServerState(initial.loaded, options.facts, options.privilegedUsers);
  state.configProblems = initial.problems;
  metrics.configLoaded.set(initial.loaded ? 1 : 0);
  if (options.ownUsername) state.ownUsername = options.ownUsername;
  state.readinessChecks.push(...(options.readinessChecks ?? []));
  if (options.clientCaPath) {
    try {
      state.clientCa = await loadCaBundle(options.clientCaPath);
    } catch (error) {
      await generated?.remove();
      throw new StartupError(`cannot load the client CA ${options.clientCaPath}: ${message(error)}`);
    }
  }
  state.podGuard = options.podGuard;
  const useCertificate = (info: CertificateInfo) => {
    state.certificate = info;
    metrics.certExpiry.set(info.notAfter.getTime() / 1000);
  };
  useCertificate(serving.info);

  const app = buildApp({ tls: serving, state, metrics, logger, bodyLimit: options.bodyLimit });
  const watches: FileWatch[] = [];
  const connections = trackConnections(app.server);
  const close = async () => {
    state.closing = true;
    for (const w of watches) w.close();
    await connections.drain(options.shutdownGraceMs ?? 25_000);
    await app.close();
    await generated?.remove();
  };

  const host = options.host ?? "0.0.0.0";
  try {
    // Fastify's own line would say "listening" too; the one listening line, with the port, is logged below.
    await app.listen({ port: options.port, host, listenTextResolver: (address) => `bound ${address}` });
    watches.push(
      await watchServingCert({
        certPath,
        keyPath,
        logger,
        pollMs: options.pollMs,
        apply: (loaded) => {
          pair = { cert: loaded.cert, key: loaded.key };
          applySecureContext();
          useCertificate(loaded.info);
          metrics.certReloads.inc();
          logger.info({ serialNumber: loaded.info.serialNumber, notAfter: loaded.info.notAfter.toISOString() }, "serving certificate reloaded");
        },
        onRejected: (error) => {
          metrics.certReloadFailures.inc();
          logger.error({ certPath, error: message(error) }, "serving certificate change rejected; keeping the current one");
        },
      }),
    );
    if (options.clientCaPath) watches.push(await watchClientCa(options.clientCaPath, (ca) => ((state.clientCa = ca), applySecureContext()), metrics, logger, options.pollMs));
    if (options.configPath) {
      const path = options.configPath;
      const apply = (next: LoadedConfig) => {
        state.config = next;
        state.configProblems = [];
        metrics.configLoaded.set(1);
        options.onConfigReload?.(next);
      };
      // Running unchecked, the warnings name the problems of the file as it is now.
      const reject = (problems: readonly ConfigProblem[]) => {
        if (!state.config) state.configProblems = problems.map((p) => formatProblem(path, p));
      };
      watches.push(await watchConfigFile({ path, apply, reject, metrics, logger, pollMs: options.pollMs }));
    }
  } catch (error) {
    await close();
    throw new StartupError(`cannot serve on ${host}:${options.port}: ${message(error)}`);
  }

  const port = (app.server.address() as AddressInfo).port;
  const url = `https://${urlHost(host)}:${port}`;
  const config = initial.loaded?.config;
  logger.info(
    { port, host, url, mode: config?.mode, cluster: config?.cluster.name, certificate: serving.info.serialNumber, privilegedUsers: state.privilegedUsers, clientAuth: Boolean(state.clientCa) },
    `listening on ${url}`,
  );
  return { app, state, metrics, port, url, generatedCaPath: generated?.caPath, close };
}
