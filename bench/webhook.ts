/**
 * Webhook alone: the compiled `netguard serve` in its own process (log level info, as deployed, logging to a
 * file), driven over HTTPS keep-alive at fixed offered loads (open loop, bench/lib/load.ts) and at
 * saturation (autocannon, closed loop). Prints AdmissionReviews/s, p50/p99/max, the server's CPU per review
 * and its RSS. Log level warn is run at saturation too, to show what the per-decision log line costs.
 */
import autocannon from "autocannon";
import { largePolicy, MULTICLOUD, namespaceObject, natHiddenPolicy, typicalPolicy } from "./lib/fixtures.js";
import { pacedLoad } from "./lib/load.js";
import { fmt, load, percentile, table } from "./lib/report.js";
import { reviewCase, type ReviewCase } from "./lib/review-check.js";
import { makeCerts, rssMiB, startServe, tempDir, type ServeChild } from "./lib/server.js";

const SECONDS = Number(process.env.NETGUARD_BENCH_SECONDS ?? 10);

const cases: { review: ReviewCase; rates: number[] }[] = [
  { review: reviewCase("typical NetworkPolicy", "/validate", typicalPolicy(), { allowed: true }), rates: [500, 2000, 4000] },
  { review: reviewCase("NAT-hidden NetworkPolicy (denied)", "/validate", natHiddenPolicy(), { allowed: false }), rates: [2000] },
  { review: reviewCase("large NetworkPolicy (50 rules × 20 peers)", "/validate", largePolicy(), { allowed: true }), rates: [50, 100] },
  { review: reviewCase("Namespace (/mutate)", "/mutate", namespaceObject(), { allowed: true, patched: true }), rates: [500, 2000, 4000] },
];

type Row = (string | number)[];

async function fixedLoad(server: ServeChild, ca: string, review: ReviewCase, rate: number): Promise<Row> {
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
  return [`${rate}/s offered`, fmt(sent / SECONDS, 0), ms(50), ms(99), ms(100), failed, fmt(cpuPerReview, 0), fmt(server.rssMiB(), 0), load().split(" ")[0]!];
}

async function saturation(server: ServeChild, review: ReviewCase, connections: number, seconds = SECONDS): Promise<Row> {
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
  return [`saturation, ${connections} conns`, fmt(result.requests.average, 0), ms(50), ms(99), ms(100), failed, fmt(cpuPerReview, 0), fmt(server.rssMiB(), 0), load().split(" ")[0]!];
}

export async function webhookBench(): Promise<void> {
  const tmp = await tempDir("netguard-bench-");
  try {
    const certs = await makeCerts(tmp.dir);
    for (const logLevel of ["info", "warn"]) {
      const server = await startServe({ configPath: MULTICLOUD, dir: tmp.dir, certs, logLevel });
      try {
        const idle = server.rssMiB();
        for (const { review } of cases) await saturation(server, review, 16, 2); // warm-up: JIT, connections
        const selected = logLevel === "info" ? cases : cases.slice(0, 1);
        for (const { review, rates } of selected) {
          console.log(`\n### ${review.name}, log level ${logLevel}\n`);
          const rows: Row[] = [];
          if (logLevel === "info") for (const rate of rates) rows.push(await fixedLoad(server, certs.ca.cert, review, rate));
          rows.push(await saturation(server, review, 16));
          console.log(table(["load", "reviews/s", "p50 ms", "p99 ms", "max ms", "failed", "server CPU µs/review", "server RSS MiB", "load avg"], rows));
        }
        console.log(`\nServer RSS (log level ${logLevel}): ${fmt(idle, 0)} MiB idle after start, ${fmt(server.rssMiB(), 0)} MiB after the runs, peak ${fmt(rssMiB(server.child.pid!, "VmHWM"), 0)} MiB.`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await tmp.remove();
  }
}
