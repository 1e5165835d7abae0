import { NETGUARD_CONFIG_MAP } from "../../certs/webhook-configurations.js";
import type { ConfigProblem } from "../../policies/index.js";
import { formatProblem, parseConfigText } from "../config/file.js";
import { isObject } from "./checks.js";
import { clipWarning } from "./decide.js";
import type { AdmissionRequest, AdmissionResponse } from "./review.js";

export interface ConfigMapTarget {
  namespace: string;
  name: string;
  key: string;
}

export interface ConfigMapVerdict {
  /** Where the config text is: data["config.yaml"]. */
  source: string;
  problems: ConfigProblem[];
  /** Accepted but noteworthy (config notes): returned as warnings. */
  notes: string[];
}

/** A ConfigMap CREATE/UPDATE of netguard's own config: the only ConfigMaps netguard judges. */
export function isConfigMapRequest(request: AdmissionRequest, target: ConfigMapTarget = NETGUARD_CONFIG_MAP): boolean {
  if (request.kind.group !== "" || request.kind.kind !== "ConfigMap") return false;
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return false;
  const meta = isObject(request.object) && isObject(request.object.metadata) ? request.object.metadata : {};
  const name = request.name || (typeof meta.name === "string" ? meta.name : "");
  const namespace = request.namespace || (typeof meta.namespace === "string" ? meta.namespace : "");
  return name === target.name && namespace === target.namespace;
}

/**
 * The GuardrailConfig in the ConfigMap, validated exactly as `netguard serve` loads it (YAML or JSON,
 * ajv schema with defaults, cross-checks), so a config netguard would refuse never gets stored.
 */
export function checkConfigMap(request: AdmissionRequest, target: ConfigMapTarget = NETGUARD_CONFIG_MAP): ConfigMapVerdict {
  const field = `data["${target.key}"]`;
  const object = isObject(request.object) ? request.object : {};
  const data = isObject(object.data) ? object.data : {};
  const binary = isObject(object.binaryData) ? object.binaryData : {};
  let text: string | undefined;
  if (typeof data[target.key] === "string") text = data[target.key] as string;
  else if (typeof binary[target.key] === "string") text = Buffer.from(binary[target.key] as string, "base64").toString("utf8");
  if (text === undefined) {
    return { source: field, problems: [{ path: "", message: `missing: netguard reads its GuardrailConfig from the key "${target.key}"` }], notes: [] };
  }
  const result = parseConfigText(text);
  if (!result.ok) return { source: field, problems: result.problems, notes: [] };
  return { source: field, problems: [], notes: result.loaded.notes.map((n) => `netguard config note: ${n.path}: ${n.message}`) };
}

/**
 * Whatever the mode: audit mode is about workloads' objects, while a config netguard cannot load is
 * an input error, like a schema violation (netguard would refuse it on reload and keep the old one).
 */
export function configMapResponse(uid: string, request: AdmissionRequest, verdict: ConfigMapVerdict): AdmissionResponse {
  const subject = `ConfigMap ${request.namespace ?? ""}/${request.name ?? ""}`;
  if (verdict.problems.length === 0) {
    return { uid, allowed: true, ...(verdict.notes.length > 0 ? { warnings: verdict.notes.map(clipWarning) } : {}) };
  }
  const count = verdict.problems.length === 1 ? "1 problem" : `${verdict.problems.length} problems`;
  const lines = verdict.problems.map((p) => `  ${formatProblem(verdict.source, p)}`);
  return {
    uid,
    allowed: false,
    status: {
      code: 403,
      reason: "Forbidden",
      message: `netguard denied this ${subject}: it is not a valid GuardrailConfig (${count}):\n${lines.join("\n")}\nnetguard keeps running on its current config until a valid one is applied.`,
    },
  };
}
