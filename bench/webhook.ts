/**
 * Webhook alone: the compiled `netguard serve` in its own process (log level info, as deployed, logging to a
 * file), driven over HTTPS keep-alive at fixed offered loads (open loop, bench/lib/load.ts) and at
 * saturation (autocannon, closed loop). Prints AdmissionReviews/s, p50/p99/max, the server's CPU per review
 * and its RSS. Log level warn is run at saturation too, to show what the per-decision log line costs.
 * In the same run, the floor (bench/floor-server.mjs: fastify on the same TLS settings, allowing everything) takes
 * the same loads, and netguard's CPU per review and saturation throughput are printed as ratios to it: figures
 * that hold from one noisy machine to the next, where the absolute ones do not.
 */
import autocannon from "autocannon";
import { largePolicy, MULTICLOUD, namespaceObject, natHiddenPolicy, typicalPolicy } from "./lib/fixtures.js";
import { pacedLoad } from "./lib/load.js";
import { fmt, load, percentile, table } from "./lib/report.js";
import { reviewCase, type ReviewCase } from "./lib/review-check.js";
import { makeCerts, rssMiB, startFloor, startServe, tempDir, type ServeChild } from "./lib/server.js";

const SECONDS = Number(process.env.NETGUARD_BENCH_SECONDS ?? 10);

const cases: { review: ReviewCase; rates: number[] }[] = [
  { review: reviewCase("typical NetworkPolicy", "/validate", typicalPolicy(), { allowed: true }), rates: [500, 2000, 4000] },
  { review: reviewCase("NAT-hidden NetworkPolicy (denied)", "/validate", natHiddenPolicy(), { allowed: false }), rates: [2000] },
  { review: reviewCase("large NetworkPolicy (50 rules × 20 peers)", "/validate", largePolicy(), { allowed: true }), rates: [50, 100] },
  { review: reviewCase("Namespace (/mutate)", "/mutate", namespaceObject(), { allowed: true, patched: true }), rates: [500, 2000, 4000] },
];

type Row = (string | number)[];
/** A run's table row, and its two figures the floor comparison needs. */
interface Measured {
  row: Row;
  perSecond: number;
  cpuMicros: number;
}

async function fixedLoad(server: ServeChild, ca: string, review: ReviewCase, rate: number): Promise<Measured> {
  const latencies: number[] = [];
  const cpu = server.cpuSeconds();
  const failures = new Map<string, number>();
  const sent = await pacedLoad({
    port: server.port,
    ca,
    path: review.path,
    request: (i) => review.request(i),
    rate,
    durationMs: SECONDS * 1000,
    onOutcome: (o) => {
      latencies.push(o.latency);
      if (o.failure) failures.set(o.failure, (failures.get(o.failure) ?? 0) + 1);
    },
  });
  const failed = [...failures].map(([why, n]) => `${n} ${why}`).join(", ") || "0";
  const ms = (p: number) => fmt(percentile(latencies, p));
  const cpuPerReview = ((server.cpuSeconds() - cpu) * 1e6) / sent;
  const row = [`${rate}/s offered`, fmt(sent / SECONDS, 0), ms(50), ms(99), ms(100), failed, fmt(cpuPerReview, 0), fmt(server.rssMiB(), 0), load().split(" ")[0]!];
  return { row, perSecond: sent / SECONDS, cpuMicros: cpuPerReview };
}

async function saturation(server: ServeChild, review: ReviewCase, connections: number, seconds = SECONDS): Promise<Measured> {
  const latencies: number[] = [];
  const cpu = server.cpuSeconds();
  const { body } = review.request(0);
  const options = { url: `${server.url}${review.path}`, method: "POST" as const, headers: { "content-type": "application/json" }, body, connections, duration: seconds };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  const failed = result.errors + result.timeouts + result.non2xx;
  const ms = (p: number) => fmt(percentile(latencies, p));
  const cpuPerReview = ((server.cpuSeconds() - cpu) * 1e6) / result.requests.total;
  const row = [`saturation, ${connections} conns`, fmt(result.requests.average, 0), ms(50), ms(99), ms(100), failed, fmt(cpuPerReview, 0), fmt(server.rssMiB(), 0), load().split(" ")[0]!];
  return { row, perSecond: result.requests.average, cpuMicros: cpuPerReview };
}

const HEADERS = ["load", "reviews/s", "p50 ms", "p99 ms", "max ms", "failed", "server CPU µs/review", "server RSS MiB", "load avg"];

/** The floor at the loads of the typical review: its saturation and its CPU per review at 2,000/s. */
async function floorRun(certs: Awaited<ReturnType<typeof makeCerts>>, dir: string): Promise<{ saturation: Measured; paced: Measured }> {
  const floor = await startFloor({ dir, certs });
  try {
    const typical = cases[0]!.review;
    await saturation(floor, typical, 16, 2);
    const paced = await fixedLoad(floor, certs.ca.cert, typical, 2000);
    const saturated = await saturation(floor, typical, 16);
    console.log(`\n### Floor (fastify HTTPS, same TLS settings, allows everything), typical NetworkPolicy's body\n`);
    console.log(table(HEADERS, [paced.row, saturated.row]));
    return { saturation: saturated, paced };
  } finally {
    await floor.stop();
  }
}

export async function webhookBench(): Promise<void> {
  const tmp = await tempDir("netguard-bench-");
  try {
    const certs = await makeCerts(tmp.dir);
    const floor = await floorRun(certs, tmp.dir);
    const typical: Partial<Record<string, { saturation: Measured; paced?: Measured }>> = {};
    for (const logLevel of ["info", "warn"]) {
      const server = await startServe({ configPath: MULTICLOUD, dir: tmp.dir, certs, logLevel });
      try {
        const idle = server.rssMiB();
        for (const { review } of cases) await saturation(server, review, 16, 2); // warm-up: JIT, connections
        const selected = logLevel === "info" ? cases : cases.slice(0, 1);
        for (const { review, rates } of selected) {
          console.log(`\n### ${review.name}, log level ${logLevel}\n`);
          const runs: Measured[] = [];
          if (logLevel === "info") for (const rate of rates) runs.push(await fixedLoad(server, certs.ca.cert, review, rate));
          runs.push(await saturation(server, review, 16));
          console.log(table(HEADERS, runs.map((r) => r.row)));
          if (review === cases[0]!.review) typical[logLevel] = { saturation: runs.at(-1)!, paced: rates.includes(2000) && logLevel === "info" ? runs[rates.indexOf(2000)] : undefined };
        }
        console.log(`\nServer RSS (log level ${logLevel}): ${fmt(idle, 0)} MiB idle after start, ${fmt(server.rssMiB(), 0)} MiB after the runs, peak ${fmt(rssMiB(server.child.pid!, "VmHWM"), 0)} MiB.`);
      } finally {
        await server.stop();
      }
    }
    console.log(`\n### Typical NetworkPolicy relative to the floor (same run; goal: CPU per review ≤ 1.5× the floor's)\n`);
    const ratioRows = Object.entries(typical).flatMap(([level, t]) => [
      ...(t!.paced ? [[`log ${level}, CPU µs/review at 2,000/s`, fmt(t!.paced.cpuMicros, 0), fmt(floor.paced.cpuMicros, 0), `${fmt(t!.paced.cpuMicros / floor.paced.cpuMicros, 2)}×`]] : []),
      [`log ${level}, CPU µs/review at saturation`, fmt(t!.saturation.cpuMicros, 0), fmt(floor.saturation.cpuMicros, 0), `${fmt(t!.saturation.cpuMicros / floor.saturation.cpuMicros, 2)}×`],
      [`log ${level}, reviews/s at saturation`, fmt(t!.saturation.perSecond, 0), fmt(floor.saturation.perSecond, 0), `${fmt(t!.saturation.perSecond / floor.saturation.perSecond, 2)}×`],
    ]);
    console.log(table(["figure", "netguard", "floor", "ratio"], ratioRows));
  } finally {
    await tmp.remove();
  }
}
