/**
 * An open-loop load generator: requests start on a fixed schedule whatever the server does, over a pool of
 * HTTPS keep-alive connections, and latency runs from the scheduled start, so a stall shows up in the
 * percentiles instead of silently lowering the offered rate (no coordinated omission).
 */
import { Agent, request } from "node:https";

export interface Outcome {
  /** ms since the load started, when this request was due. */
  due: number;
  /** ms from due to the end of the response (or the failure). */
  latency: number;
  /** Why the request failed (an error code, a status, a wrong answer); undefined when it succeeded. */
  failure?: string;
}

export interface PacedLoad {
  port: number;
  ca: string;
  path: string;
  /** The body of the i-th request, and a check of its response that returns a failure reason or undefined. */
  request(i: number): { body: string; check(status: number, text: string): string | undefined };
  rate: number;
  durationMs: number;
  /** Keep-alive connections in the pool (default 16); requests beyond them queue, as in the apiserver's client. */
  connections?: number;
  timeoutMs?: number;
  onOutcome(outcome: Outcome): void;
  /** Checked every tick; the load stops early when it returns true. */
  stop?(): boolean;
}

/** Runs the load and resolves once every request has been answered or has failed. Returns the number sent. */
export async function pacedLoad(o: PacedLoad): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections ?? 16, ca: o.ca });
  const started = performance.now();
  let sent = 0;
  let pending = 0;
  let allSent!: () => void;
  const drained = new Promise<void>((resolve) => (allSent = resolve));
  let done = false;
  const finish = () => {
    pending--;
    if (done && pending === 0) allSent();
  };

  const fire = (i: number) => {
    const due = (i * 1000) / o.rate;
    const { body, check } = o.request(i);
    let settled = false;
    const outcome = (failure?: string) => {
      if (settled) return; // a request and its response can both report an error
      settled = true;
      o.onOutcome({ due, latency: performance.now() - started - due, failure });
      finish();
    };
    pending++;
    const req = request(
      { host: "127.0.0.1", port: o.port, path: o.path, method: "POST", agent, timeout: o.timeoutMs ?? 10_000, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => outcome(check(res.statusCode ?? 0, Buffer.concat(chunks).toString())));
        res.on("error", (e: NodeJS.ErrnoException) => outcome(e.code ?? e.message));
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => outcome(e.code ?? e.message));
    req.end(body);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      const due = Math.min(Math.floor((elapsed * o.rate) / 1000), Math.floor((o.durationMs * o.rate) / 1000));
      while (sent < due) fire(sent++);
      if (elapsed >= o.durationMs || o.stop?.()) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  done = true;
  if (pending > 0) await drained;
  agent.destroy();
  return sent;
}
