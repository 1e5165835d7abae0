import { rules } from "../../../policies/index.js";
import type { CheckReport, ReportedFinding } from "../../audit/report.js";

const INFO_URI = "https://github.com/netguard-dev/netguard";

function location(f: Pick<ReportedFinding, "source" | "line" | "path">) {
  return {
    ...(f.source
      ? { physicalLocation: { artifactLocation: { uri: f.source === "<stdin>" ? "stdin" : f.source.split("\\").join("/") }, region: { startLine: f.line ?? 1 } } }
      : {}),
    logicalLocations: [{ fullyQualifiedName: f.path, kind: "member" }],
  };
}

/** SARIF 2.1.0, for code-scanning tools. Input errors become tool notifications. */
export function formatSarif(report: CheckReport, version: string): string {
  const ruleIndex = new Map(rules.map((r, i) => [r.id as string, i]));
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "netguard",
            version,
            informationUri: INFO_URI,
            rules: rules.map((r) => ({
              id: r.id,
              name: r.id,
              shortDescription: { text: r.title },
              helpUri: `${INFO_URI}/blob/main/docs/rules/${r.id}.md`,
              defaultConfiguration: { level: r.defaultAction === "deny" ? "error" : "warning" },
              properties: { certainty: r.certainty },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: report.errors.map((e) => ({
              level: "error",
              message: { text: `${e.object ? `${e.object.kind} ${e.object.name}: ` : ""}${e.path ? `${e.path}: ` : ""}${e.message}` },
              locations: [location({ source: e.source, line: e.line, path: e.path ?? "" })],
            })),
          },
        ],
        results: report.findings.map((f) => ({
          ruleId: f.rule,
          ...(ruleIndex.has(f.rule) ? { ruleIndex: ruleIndex.get(f.rule) } : {}),
          level: f.action === "deny" ? "error" : "warning",
          message: { text: `${f.object.namespace ? `${f.object.namespace}/` : ""}${f.object.name} ${f.path}: ${f.message} Fix: ${f.fix}` },
          locations: [location(f)],
          ...(f.premises || f.waivedBy ? { properties: { ...(f.premises ? { premises: f.premises } : {}), ...(f.waivedBy ? { waivedBy: f.waivedBy } : {}) } } : {}),
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
