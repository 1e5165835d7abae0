/**
 * `make soak`: the compiled `netguard serve` in its own process (log level info, to a file) under steady
 * open-loop load on loopback, then faults under load: certificate rotated on disk, config replaced by a bad
 * one then a good one, SIGTERM with requests in flight and a restart; then the kube-apiserver of test/k8s
 * restarted under a running controller (lib/apiserver-restart.ts). Bounded; stops by itself.
 *   NETGUARD_SOAK_MINUTES (default 10), NETGUARD_SOAK_RATE (AdmissionReviews/s, default 1000)
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { dirname, join } from "node:path";
import { MULTICLOUD, natHiddenPolicy, networkPolicy, typicalPolicy } from "./lib/fixtures.js";
import { pacedLoad, type Outcome } from "./lib/load.js";
import { fmt, load, machine, percentile, table } from "./lib/report.js";
import { apiserverRestartFault } from "./lib/apiserver-restart.js";
import { reviewCase } from "./lib/review-check.js";
import { makeCerts, startServe, tempDir, type BenchCerts, type ServeChild } from "./lib/server.js";

const MINUTES = Number(process.env.NETGUARD_SOAK_MINUTES ?? 10);
const RATE = Number(process.env.NETGUARD_SOAK_RATE ?? 1000);
const FAULT_PHASE_MS = 100_000;

// Nine allowed reviews in ten, one denied: every answer is checked (uid, allowed).
const allowed = reviewCase("typical", "/validate", typicalPolicy(), { allowed: true });
const denied = reviewCase("nat-hidden", "/validate", natHiddenPolicy(), { allowed: false });
const mixed = (i: number) => (i % 10 === 9 ? denied : allowed).request(i);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One request on a fresh connection: status, body and the serial of the certificate presented. */
function probe(port: number, ca: string, path: string, body?: unknown): Promise<{ status: number; text: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, ca, agent: false, method: body ? "POST" : "GET", headers: { "content-type": "application/json" } }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), serial }));
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const metric = (text: string, name: string) => Number(text.split("\n").find((l) => l.startsWith(`${name} `))?.split(" ")[1] ?? NaN);

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function steady(server: ServeChild, ca: string): Promise<void> {
  const minutes = Array.from({ length: MINUTES }, () => ({ latencies: [] as number[], failed: new Map<string, number>(), rss: [] as number[], load: "" }));
  const started = performance.now();
  const sampler = setInterval(() => {
    const m = minutes[Math.min(MINUTES - 1, Math.floor((performance.now() - started) / 60_000))]!;
    m.rss.push(server.rssMiB());
    m.load = load().split(" ")[0]!;
  }, 5_000);
  await pacedLoad({
    port: server.port,
    ca,
    path: "/validate",
    request: mixed,
    rate: RATE,
    durationMs: MINUTES * 60_000,
    onOutcome: (o) => {
      const m = minutes[Math.min(MINUTES - 1, Math.floor(o.due / 60_000))]!;
      m.latencies.push(o.latency);
      if (o.failure) m.failed.set(o.failure, (m.failed.get(o.failure) ?? 0) + 1);
    },
  });
  clearInterval(sampler);
  console.log(`\n## Steady load: ${RATE}/s for ${MINUTES} min (90% allowed, 10% denied, every answer checked)\n`);
  console.log(
    table(
      ["minute", "requests", "failed", "p50 ms", "p90 ms", "p99 ms", "max ms", "RSS MiB (min–max of 5 s samples)", "load avg"],
      minutes.map((m, i) => {
        const ms = (p: number) => fmt(percentile(m.latencies, p));
        const failed = [...m.failed].map(([why, n]) => `${n} ${why}`).join(", ") || "0";
        return [i + 1, m.latencies.length, failed, ms(50), ms(90), ms(99), ms(100), `${fmt(Math.min(...m.rss), 0)}–${fmt(Math.max(...m.rss), 0)}`, m.load];
      }),
    ),
  );
  // RSS saws up and down with garbage collection: compare the peaks of the first and the last thirds.
  const third = Math.max(1, Math.floor(MINUTES / 3));
  const peak = (ms: typeof minutes) => Math.max(...ms.flatMap((m) => m.rss));
  const [early, late] = [peak(minutes.slice(0, third)), peak(minutes.slice(-third))];
  console.log(`\nPeak RSS in the first ${third} min ${fmt(early, 0)} MiB, in the last ${third} min ${fmt(late, 0)} MiB (${fmt(((late - early) / early) * 100, 1)}%; target: no growth beyond 10%).`);
}

interface Fault {
  name: string;
  /** ms into the fault phase. */
  at: number;
  note: string;
}

async function faults(dir: string, first: ServeChild, certs: BenchCerts, configPath: string): Promise<void> {
  const ca = certs.ca.cert;
  let server = first;
  const failures: Outcome[] = [];
  let answered = 0;
  const events: Fault[] = [];
  const started = performance.now();
  const now = () => performance.now() - started;
  const loadDone = pacedLoad({
    port: server.port,
    ca,
    path: "/validate",
    request: mixed,
    rate: RATE,
    durationMs: FAULT_PHASE_MS,
    onOutcome: (o) => (o.failure ? failures.push(o) : answered++),
  });

  await sleep(15_000);
  const before = (await probe(server.port, ca, "/healthz")).serial;
  let at = now();
  await certs.rotate();
  const after = await until("the rotated certificate to be served", async () => {
    const { serial } = await probe(server.port, ca, "/healthz");
    return serial !== before ? serial : undefined;
  });
  events.push({ name: "certificate rotated on disk", at, note: `new connections get serial ${after.slice(0, 8)}… after ${fmt(now() - at, 0)} ms` });

  await sleep(15_000);
  const good = await readFile(configPath, "utf8");
  const metrics = async () => (await probe(server.port, ca, "/metrics")).text;
  const rejectedBefore = metric(await metrics(), "netguard_config_reload_failures_total");
  at = now();
  await writeFile(configPath, "apiVersion: netguard.dev/v1alpha1\nkind: GuardrailConfig\ncluster: {name: gcp-west, podCIDRs: [10.8.0.0/33]}\n");
  await until("the bad config to be rejected", async () => (metric(await metrics(), "netguard_config_reload_failures_total") > rejectedBefore ? true : undefined));
  events.push({ name: "config replaced by an invalid one", at, note: `rejected after ${fmt(now() - at, 0)} ms; the last good config stayed in force` });

  await sleep(15_000);
  // The good config adds a NAT remote: a policy naming its pod range is denied once it is in force.
  const extra = "  - name: azure-south\n    connectivity: nat\n    podCIDRs: [10.150.0.0/16]\n";
  const probeReview = reviewCase("probe", "/validate", networkPolicy("p", "shop", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.150.1.0/24" } }] }] }), { allowed: false });
  at = now();
  await writeFile(configPath, `${good.trimEnd()}\n${extra}`);
  await until("the good config to be in force", async () => {
    const { body, check } = probeReview.request(1);
    const r = await probe(server.port, ca, "/validate", JSON.parse(body));
    return check(r.status, r.text) === undefined ? true : undefined;
  });
  events.push({ name: "config replaced by a good one", at, note: `in force (a policy naming the new remote's pods denied) after ${fmt(now() - at, 0)} ms` });

  await sleep(15_000);
  const inFlight = halfSent(server.port, ca);
  await sleep(100);
  at = now();
  server.child.kill("SIGTERM");
  const finish = inFlight.finish();
  const code = await server.exited;
  const down = now();
  const held = await finish;
  server = await startServe({ configPath, dir, certs, port: server.port });
  events.push({
    name: "SIGTERM with requests in flight, then restart",
    at,
    note:
      `exit code ${code} after ${fmt(down - at, 0)} ms; a request half-sent before SIGTERM got ${held}; ` +
      `port closed for ${fmt(now() - down, 0)} ms until the new process was ready (one replica: nothing else to answer)`,
  });

  await loadDone;
  await server.stop();
  console.log(`\n## Faults under load: ${RATE}/s for ${FAULT_PHASE_MS / 1000} s, ${answered} answered correctly, ${failures.length} failed\n`);
  const next = (i: number) => events[i + 1]?.at ?? Infinity;
  console.log(
    table(
      ["at s", "fault", "failed admissions until the next fault", "what happened"],
      events.map((e, i) => {
        const mine = failures.filter((f) => f.due >= e.at && f.due < next(i));
        const byReason = new Map<string, number>();
        for (const f of mine) byReason.set(f.failure!, (byReason.get(f.failure!) ?? 0) + 1);
        const sentBefore = failures.filter((f) => f.due < e.at && f.due + f.latency >= e.at).length;
        const reasons = [...byReason].map(([why, n]) => `${n} ${why}`).join(", ") || "0";
        return [fmt(e.at / 1000, 1), e.name, `${reasons}${sentBefore ? ` (+${sentBefore} sent before it)` : ""}`, e.note];
      }),
    ),
  );
  const early = failures.filter((f) => f.due < (events[0]?.at ?? Infinity)).length;
  if (early) console.log(`\n${early} failures before the first fault.`);
}

/** A POST whose headers and first half are sent now; finish() sends the rest and resolves with the outcome. */
function halfSent(port: number, ca: string): { finish(): Promise<string> } {
  const { body, check } = allowed.request(999_999_999);
  const payload = Buffer.from(body);
  const req = request({ host: "127.0.0.1", port, path: "/validate", method: "POST", ca, agent: false, headers: { "content-type": "application/json", "content-length": String(payload.length) } });
  const result = new Promise<string>((resolve) => {
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`an error: ${e.code ?? e.message}`));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(check(res.statusCode ?? 0, Buffer.concat(chunks).toString()) ?? "its correct answer (HTTP 200)"));
    });
  });
  req.write(payload.subarray(0, payload.length >> 1));
  req.flushHeaders();
  return {
    finish: async () => {
      await sleep(200);
      req.end(payload.subarray(payload.length >> 1));
      return result;
    },
  };
}

const tmp = await tempDir("netguard-soak-");
try {
  console.log(`# netguard soak\n\n\`\`\`\n${machine()}\n\`\`\``);
  // Certificates and config each in their own directory, as mounted Secrets and ConfigMaps are: netguard
  // watches their directories, and the busy log file in tmp.dir would keep postponing its reloads.
  const certs = await makeCerts(join(tmp.dir, "certs"));
  const configPath = join(tmp.dir, "config", "config.yaml");
  await mkdir(dirname(configPath));
  await copyFile(MULTICLOUD, configPath);
  const server = await startServe({ configPath, dir: tmp.dir, certs });
  await steady(server, certs.ca.cert);
  await faults(tmp.dir, server, certs, configPath);
  await apiserverRestartFault();
} finally {
  await tmp.remove();
}
