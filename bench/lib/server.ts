/** The compiled `netguard serve` in its own process, with real certificates, for the benchmarks and the soak. */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeCertFiles } from "../../certs/files.js";
import { generateCA, generateServingCert, type CertKeyPair } from "../../certs/generate.js";
import { freePort } from "../../test/k8s/cluster.js";
import { ROOT } from "./fixtures.js";
import { fmt } from "./report.js";

export const CLI = join(ROOT, "dist/server/cli/main.js");

export interface BenchCerts {
  ca: CertKeyPair;
  caPath: string;
  certPath: string;
  keyPath: string;
  /** Writes a fresh serving pair from the same CA over the files (a rotation). */
  rotate(): Promise<void>;
}

export async function makeCerts(dir: string): Promise<BenchCerts> {
  const ca = await generateCA("netguard-bench-ca");
  const issue = () => generateServingCert(ca, { ips: ["127.0.0.1"], dnsNames: ["localhost"] });
  const paths = await writeCertFiles(dir, ca, await issue());
  return {
    ca,
    caPath: paths.caCert,
    certPath: paths.cert,
    keyPath: paths.key,
    rotate: async () => void (await writeCertFiles(dir, ca, await issue())),
  };
}

export interface ServeOptions {
  configPath: string;
  dir: string;
  certs: BenchCerts;
  port?: number;
  logLevel?: string;
  extraArgs?: string[];
}

export interface ServeChild {
  child: ChildProcess;
  port: number;
  url: string;
  logPath: string;
  exited: Promise<number | null>;
  /** Resident set size in MiB, from /proc. */
  rssMiB(): number;
  cpuSeconds(): number;
  /** SIGTERM, then wait for the exit (SIGKILL after 30 s). */
  stop(): Promise<number | null>;
}

/** Resident set size in MiB from /proc (VmRSS now, VmHWM the peak). */
export function rssMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return line ? Number(line[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) the process has used, from /proc (clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** GET /readyz until 200 (the server is ready only with a valid config and certificate). */
export async function waitReady(port: number, ca: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`netguard serve exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ host: "127.0.0.1", port, path: "/readyz", ca, agent: false, timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.on("timeout", () => req.destroy());
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("netguard serve not ready in time");
}

// A benchmark that fails half-way must not leave a server behind.
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Starts `node dist/server/cli/main.js serve` with its log going to a file (as a container runtime would collect it). */
export async function startServe(o: ServeOptions): Promise<ServeChild> {
  const port = o.port ?? (await freePort());
  const args = [CLI, "serve", "--config", o.configPath, "--cert", o.certs.certPath, "--key", o.certs.keyPath];
  args.push("--port", String(port), "--host", "127.0.0.1", "--log-level", o.logLevel ?? "info", ...(o.extraArgs ?? []));
  return startChild(args, port, o.dir, o.certs);
}

/** The floor (bench/floor-server.mjs): a fastify HTTPS server on netguard's TLS settings that allows every review. */
export async function startFloor(o: { dir: string; certs: BenchCerts }): Promise<ServeChild> {
  const port = await freePort();
  return startChild([join(ROOT, "bench/floor-server.mjs"), "--port", String(port), "--cert", o.certs.certPath, "--key", o.certs.keyPath], port, o.dir, o.certs);
}

async function startChild(args: string[], port: number, dir: string, certs: BenchCerts): Promise<ServeChild> {
  const logPath = join(dir, `serve-${port}-${Date.now()}.log`);
  const out = openSync(logPath, "a");
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", out, out] });
  closeSync(out);
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  void exited.then(() => children.delete(child));
  await waitReady(port, certs.ca.cert, child);
  return {
    child,
    port,
    url: `https://127.0.0.1:${port}`,
    logPath,
    exited,
    rssMiB: () => rssMiB(child.pid!),
    cpuSeconds: () => cpuSeconds(child.pid!),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(timer);
      }
      return child.exitCode;
    },
  };
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The `netguard serve` process of this environment, found by its unique config path. */
export function servePid(configPath: string): number {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv.includes("serve") && argv.includes(configPath)) return Number(pid);
    } catch {
      /* gone */
    }
  }
  throw new Error("netguard serve process not found");
}

/** V8 heap figures from netguard's own /metrics. */
export function heap(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(`${url}/metrics`, { ca }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => {
        const mib = (name: string) => fmt(Number(text.match(new RegExp(`^netguard_${name} (\\S+)`, "m"))?.[1]) / 2 ** 20, 0);
        resolve(`${mib("nodejs_heap_size_used_bytes")} MiB used of ${mib("nodejs_heap_size_total_bytes")} MiB, external ${mib("nodejs_external_memory_bytes")} MiB`);
      });
    })
      .on("error", reject)
      .end();
  });
}
