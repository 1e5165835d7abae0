import type { App } from "./app.js";
import type { Metrics } from "./metrics.js";

export interface InFlightLimits {
  /** AdmissionReviews being received or answered at once. */
  requests: number;
  /** Their declared body sizes added up (a body without Content-Length counts as the body limit). */
  bytes: number;
}

/**
 * 64 reviews at once is far more than two replicas see from a busy apiserver (each takes well under a
 * millisecond); 16 MiB of bodies is two maximum bodies, whose text and parsed form (bounded by
 * MAX_JSON_VALUES) stay well inside the Deployment's 256 MiB heap cap (bench/RESULTS.md, hostile input).
 */
export const DEFAULT_IN_FLIGHT: InFlightLimits = { requests: 64, bytes: 16 * 1024 * 1024 };

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/**
 * Admission requests beyond the limits get a 429 with a reason and Retry-After without their body being kept,
 * so no number of callers can make one replica hold more than the limits allow. Probes and /metrics are
 * never counted or refused: a busy replica must not look dead to the kubelet.
 */
export function limitInFlight(app: App, limits: InFlightLimits, bodyLimit: number, metrics: Metrics): void {
  let requests = 0;
  let bytes = 0;
  app.addHook("onRequest", async (req, reply) => {
    if (req.method !== "POST") return;
    const declared = Number(req.headers["content-length"]);
    const size = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, bodyLimit) : bodyLimit;
    if (requests + 1 > limits.requests || (requests > 0 && bytes + size > limits.bytes)) {
      metrics.rejectedRequests.inc({ status: "429" });
      const reason =
        `netguard is answering ${requests} admission requests (${mib(bytes)} of bodies) and takes at most ` +
        `${limits.requests} requests and ${mib(limits.bytes)} in flight; retry shortly`;
      // Read the body to its end and discard it, so the caller is not cut off mid-write and reads the answer.
      await new Promise((resolve) => {
        req.raw.once("end", resolve).once("close", resolve).resume();
      });
      return reply
        .code(429)
        .header("retry-after", "1")
        .send({
          error: "Too Many Requests",
          reason,
        });
    }
    requests++;
    bytes += size;
    // "close" fires once the response is sent or the connection dropped, whichever comes first.
    reply.raw.once("close", () => {
      requests--;
      bytes -= size;
    });
  });
}
