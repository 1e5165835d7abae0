import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { loadCaBundle, loadServingCert, type CaBundle, type CertificateInfo, type LoadedServingCert } from "../certs/files.js";
import { watchServingCert } from "../certs/reload.js";
import { temporaryLocalCerts, type TemporaryCerts } from "../certs/self-signed.js";
import { defaultConfig, type LoadedConfig } from "../policies/index.js";
import { buildApp, type App } from "./app.js";
import { formatProblems, loadConfigFile } from "./config/file.js";
import { logConfigNotes, watchConfigFile } from "./config/reload.js";
import { trackConnections } from "./drain.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { ServerState, type FactsProvider, type PodGuardHook, type ReadinessCheck } from "./state.js";
import { watchFiles, type FileWatch } from "./watch/files.js";

export interface StartOptions {
  /** GuardrailConfig file, watched for changes; without it the built-in default config applies. */
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

/** Startup cannot go on (bad config, unreadable certificate); the message lists every problem. */
export class StartupError extends Error {}

async function initialConfig(path: string | undefined): Promise<LoadedConfig> {
  if (!path) return defaultConfig();
  const result = await loadConfigFile(path);
  if (!result.ok) throw new StartupError(`invalid config ${path}:\n${formatProblems(result.problems)}`);
  return result.loaded;
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
  const loaded = await initialConfig(options.configPath);
  if (options.configPath) logConfigNotes(logger, options.configPath, loaded);
  const { certPath, keyPath, serving, generated } = await servingFiles(options);
  let pair = { cert: serving.cert, key: serving.key };
  // A new secure context replaces the whole TLS context: the client CA goes with every certificate change.
  const applySecureContext = () => app.server.setSecureContext({ ...pair, ...(state.clientCa ? { ca: state.clientCa.pem } : {}) });

  const metrics = createMetrics();
  const state = new ServerState(loaded, options.facts, options.privilegedUsers);
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
      const apply = (next: LoadedConfig) => {
        state.config = next;
        options.onConfigReload?.(next);
      };
      watches.push(await watchConfigFile({ path: options.configPath, apply, metrics, logger, pollMs: options.pollMs }));
    }
  } catch (error) {
    await close();
    throw new StartupError(`cannot serve on ${host}:${options.port}: ${message(error)}`);
  }

  const port = (app.server.address() as AddressInfo).port;
  const url = `https://${urlHost(host)}:${port}`;
  const { config } = loaded;
  logger.info(
    { port, host, url, mode: config.mode, cluster: config.cluster.name, certificate: serving.info.serialNumber, privilegedUsers: state.privilegedUsers, clientAuth: Boolean(state.clientCa) },
    `listening on ${url}`,
  );
  return { app, state, metrics, port, url, generatedCaPath: generated?.caPath, close };
}
