import { Server as NetServer } from "node:net";
import type { Server } from "node:https";
import type { TLSSocket } from "node:tls";

export interface ConnectionDrain {
  /**
   * Stops accepting connections, then closes the open ones as they fall quiet, and resolves when none is left
   * or after `graceMs`, when the rest are closed whatever they are doing.
   */
  drain(graceMs: number): Promise<void>;
}

/** How long a kept-alive connection must have been quiet before shutdown closes it. */
const QUIET_MS = 1_000;

/**
 * Graceful shutdown for kept-alive callers. Node's `server.close()` closes every connection that is idle at
 * that instant, and a request the apiserver is writing on one of them just then is reset: Go's client does
 * not retry a POST it has written, so that admission fails. Instead, once shutdown starts, responses say
 * `connection: close` (app.ts) so busy connections end after their answer, and a connection is closed only
 * after QUIET_MS without a request — the apiserver has long since stopped choosing it by then.
 */
export function trackConnections(server: Server): ConnectionDrain {
  const open = new Map<TLSSocket, { active: number; quietSince: number }>();
  server.on("secureConnection", (socket: TLSSocket) => {
    open.set(socket, { active: 0, quietSince: Date.now() });
    socket.once("close", () => open.delete(socket));
  });
  server.on("request", (req, res) => {
    const c = open.get(req.socket as TLSSocket);
    if (!c) return;
    c.active++;
    res.once("close", () => {
      c.active--;
      c.quietSince = Date.now();
    });
  });

  return {
    drain: (graceMs) =>
      new Promise((resolve) => {
        // net.Server's close stops listening; http.Server's would also close the idle connections at once.
        NetServer.prototype.close.call(server);
        const deadline = Date.now() + graceMs;
        const tick = setInterval(() => {
          const now = Date.now();
          for (const [socket, c] of open) if (now >= deadline || (c.active === 0 && now - c.quietSince >= QUIET_MS)) socket.destroy();
          if (open.size === 0) {
            clearInterval(tick);
            resolve();
          }
        }, 50);
      }),
  };
}
