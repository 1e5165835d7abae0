import { STATUS_CODES } from "node:http";
import type { Server } from "node:https";
import Fastify, { LogController, type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { CertKeyPair } from "../certs/generate.js";
import { registerAdmissionRoutes } from "./admission/routes.js";
import { requireClientCertificates } from "./client-auth.js";
import { DEFAULT_IN_FLIGHT, limitInFlight, type InFlightLimits } from "./in-flight.js";
import { parseJsonBody } from "./json.js";
import type { Metrics } from "./metrics.js";
import type { ServerState } from "./state.js";

/**
 * An object and its oldObject can each be ~1.5 MiB (etcd's limit) and grow when encoded as JSON: leave room.
 * What a body costs in memory is bounded by MAX_JSON_VALUES and the in-flight limits, not by this alone.
 */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export interface AppOptions {
  tls: CertKeyPair;
  state: ServerState;
  metrics: Metrics;
  logger: Logger;
  bodyLimit?: number;
  inFlight?: InFlightLimits;
}

export type App = FastifyInstance<Server>;

function clientError(error: FastifyError, bodyLimit: number): { status: number; reason: string } | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, reason: `request body is larger than the ${bodyLimit}-byte limit` };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, reason: "content-type must be application/json" };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, reason: "request body is empty; expected an AdmissionReview" };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, reason: "request body is not valid JSON" };
  }
  const status = error.statusCode ?? 500;
  return status >= 400 && status < 500 ? { status, reason: error.message } : undefined;
}

/** The HTTPS admission server: /validate, /mutate, /healthz, /readyz, /metrics. HTTP/1.1, TLS 1.2 or newer. */
export function buildApp(options: AppOptions): App {
  const { state, metrics } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    https: {
      cert: options.tls.cert,
      key: options.tls.key,
      minVersion: "TLSv1.2",
      ALPNProtocols: ["http/1.1"],
      // Asked for, not required at the handshake: the probes and /metrics have no client certificate.
      ...(state.clientCa ? { ca: state.clientCa.pem, requestCert: true, rejectUnauthorized: false } : {}),
    },
    loggerInstance: options.logger,
    // One structured line per admission decision is logged by the routes instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    requestTimeout: 30_000,
  }) as unknown as App;

  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    if (body === "") return done(Object.assign(new Error("request body is empty; expected an AdmissionReview"), { statusCode: 400 }), undefined);
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const known = clientError(error, bodyLimit);
    if (known) {
      metrics.rejectedRequests.inc({ status: String(known.status) });
      return reply.code(known.status).send({ error: STATUS_CODES[known.status], reason: known.reason });
    }
    req.log.error({ err: error, url: req.url }, "internal error");
    return reply.code(500).send({ error: "Internal Server Error", reason: "internal error; see the netguard logs" });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: "Not Found", reason: `no route ${req.method} ${req.url.split("?")[0]}` }));

  // Requests in flight when shutdown starts are answered, then their connections close instead of idling.
  app.addHook("onSend", async (_req, reply) => {
    if (state.closing) reply.header("connection", "close");
  });

  if (state.clientCa) requireClientCertificates(app, state, metrics);
  limitInFlight(app, options.inFlight ?? DEFAULT_IN_FLIGHT, bodyLimit, metrics);

  app.get("/healthz", async () => "ok");
  app.get("/readyz", async (_req, reply) => {
    const reasons = state.notReadyReasons();
    if (reasons.length > 0) return reply.code(503).send({ ready: false, reasons });
    // Degraded is ready: an unready netguard has no endpoints, and its fail-closed webhooks would block the cluster.
    const degraded = state.degradedReasons();
    return degraded.length === 0 ? "ok" : { ready: true, degraded };
  });
  app.get("/metrics", async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  registerAdmissionRoutes(app, state, metrics);
  return app;
}
