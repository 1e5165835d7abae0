/** The probe agents (agent.mjs), one per host namespace, and a client that asks them to send probes. */
import { spawn, type ChildProcess } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Probe } from "./probes.js";

const AGENT = join(fileURLToPath(new URL(".", import.meta.url)), "agent.mjs");
const START_TIMEOUT_MS = 10_000;

export interface Outcome {
  ok: boolean;
  error?: string;
}

class Agent {
  private socket!: Socket;
  private next = 0;
  private buffered = "";
  private readonly waiting = new Map<number, (o: Outcome) => void>();
  constructor(readonly process: ChildProcess, private readonly path: string) {}

  async connect(): Promise<void> {
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(this.path, () => resolve(s));
      s.once("error", reject);
    });
    this.socket.on("data", (chunk) => {
      this.buffered += chunk.toString();
      let nl;
      while ((nl = this.buffered.indexOf("\n")) >= 0) {
        const { id, ...outcome } = JSON.parse(this.buffered.slice(0, nl)) as Outcome & { id: number };
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.get(id)?.(outcome);
        this.waiting.delete(id);
      }
    });
  }

  send(p: Probe): Promise<Outcome> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(JSON.stringify({ id, proto: p.proto, src: p.src, dst: p.dst, port: p.port }) + "\n");
    });
  }

  stop(): void {
    this.socket?.destroy();
    this.process.kill();
  }
}

export class Agents {
  private constructor(private readonly byNs: Map<string, Agent>) {}

  /** Starts an agent in each namespace and waits until every one answers on its socket. */
  static async start(namespaces: readonly string[], dir: string): Promise<Agents> {
    const byNs = new Map<string, Agent>();
    const started = await Promise.allSettled(
      namespaces.map(async (ns) => {
        const path = join(dir, `${ns}.sock`);
        // stdout is read only up to "ready"; stderr goes to ours, so a crashing agent says why.
        const child = spawn("ip", ["netns", "exec", ns, process.execPath, AGENT, path], { stdio: ["ignore", "pipe", "inherit"] });
        const agent = new Agent(child, path);
        byNs.set(ns, agent);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`agent in ${ns} not ready after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
          child.stdout!.once("data", () => (clearTimeout(timer), resolve()));
          child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`agent in ${ns} exited with ${code}`))));
        });
        child.stdout!.resume();
        await agent.connect();
      }),
    );
    const agents = new Agents(byNs);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      agents.stop();
      throw failed.reason;
    }
    return agents;
  }

  /** Sends every probe at once, each from its namespace's agent. */
  run(list: readonly Probe[]): Promise<Outcome[]> {
    return Promise.all(list.map((p) => this.byNs.get(p.ns)!.send(p)));
  }

  stop(): void {
    for (const a of this.byNs.values()) a.stop();
  }
}
