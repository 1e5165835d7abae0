import { VERSION } from "../../version.js";
import type { CheckReport } from "../../audit/report.js";
import { formatJson } from "./json.js";
import { formatSarif } from "./sarif.js";
import { colours, formatText, plain } from "./text.js";

export const OUTPUT_FORMATS = ["text", "json", "sarif"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function useColour(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

/** Writes the report to stdout; for machine formats, errors are repeated on stderr for humans. */
export function printReport(report: CheckReport, format: OutputFormat): void {
  if (format === "text") {
    process.stdout.write(formatText(report, useColour() ? colours : plain));
    return;
  }
  process.stdout.write(format === "json" ? formatJson(report) : formatSarif(report, VERSION));
  for (const e of report.errors) {
    const where = e.source ? `${e.source}${e.line ? `:${e.line}` : ""}: ` : "";
    process.stderr.write(`netguard: ${where}${e.path ? `${e.path}: ` : ""}${e.message}\n`);
  }
}
