import type { TLSSocket } from "node:tls";
import type { CaBundle } from "../certs/files.js";
import type { App } from "./app.js";
import type { Metrics } from "./metrics.js";
import type { ServerState } from "./state.js";

/**
 * `serve --client-ca`: POST (admission) requests need a client certificate signed by the current client CA;
 * GET routes (probes, /metrics) stay open. The TLS handshake asks for a certificate without requiring one
 * and verifies it against the CA of that moment. A keep-alive connection outlives a CA change, so a
 * connection verified under an older CA is checked again against the current one (its certificate must be
 * issued by a CA of the bundle) and closed if that fails: replacing the CA revokes at once.
 */
export function requireClientCertificates(app: App, state: ServerState, metrics: Metrics): void {
  const verifiedUnder = new WeakMap<TLSSocket, CaBundle | undefined>();
  app.server.on("secureConnection", (socket: TLSSocket) => verifiedUnder.set(socket, state.clientCa));

  app.addHook("onRequest", async (req, reply) => {
    const ca = state.clientCa;
    const socket = req.raw.socket as TLSSocket;
    if (!ca || req.method !== "POST") return;
    if (socket.authorized && verifiedUnder.get(socket) === ca) return;
    const peer = socket.getPeerX509Certificate();
    if (socket.authorized && peer && ca.certificates.some((c) => peer.checkIssued(c) && peer.verify(c.publicKey))) {
      verifiedUnder.set(socket, ca);
      return;
    }
    metrics.rejectedRequests.inc({ status: "401" });
    const why = !peer
      ? "none was presented"
      : socket.authorized
        ? "the one presented was issued by a client CA no longer trusted"
        : `the one presented was refused (${String(socket.authorizationError)})`;
    return reply
      .code(401)
      .header("connection", "close")
      .send({ error: "Unauthorized", reason: `${req.url.split("?")[0]} needs a client certificate signed by netguard's --client-ca; ${why}` });
  });
}
