/** Percentiles, markdown tables and a description of the machine, for figures that are printed, not asserted. */
import { cpus, loadavg, totalmem } from "node:os";

/** The p-th percentile (0..100) of unsorted samples, nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const mean = (samples: readonly number[]): number => samples.reduce((a, b) => a + b, 0) / samples.length;

export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

export const load = (): string => loadavg().map((l) => l.toFixed(2)).join(" ");

export function machine(): string {
  const cpu = cpus();
  return [
    `date: ${new Date().toISOString()}`,
    `cpu: ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown"}`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node: ${process.version}`,
    `load average at start (1/5/15 min): ${load()}`,
  ].join("\n");
}

/** Runs fn and prints how long it took, with the load average, as a section heading. */
export async function section(title: string, fn: () => Promise<void>): Promise<void> {
  console.log(`\n## ${title}\n`);
  const started = Date.now();
  await fn();
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s; load average after: ${load()})`);
}
