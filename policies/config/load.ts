import { Ajv } from "ajv";
import schema from "./guardrail-config.schema.json" with { type: "json" };
import { describeSchemaErrors } from "../schema-errors.js";
import { buildTopology, type Topology } from "../topology.js";
import { crossCheck } from "./cross-checks.js";
import type { ConfigProblem, GuardrailConfig } from "./types.js";

export { schema as guardrailConfigSchema };

/** A validated config with its derived topology: what the engine runs on. */
export interface LoadedConfig {
  readonly config: GuardrailConfig;
  readonly topology: Topology;
  /** Accepted but noteworthy facts (for example overlapping local and remote ranges). */
  readonly notes: readonly ConfigProblem[];
}

export type ConfigResult = { ok: true; loaded: LoadedConfig } | { ok: false; problems: ConfigProblem[] };

const validate = new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(schema);
// Same schema minus unknown fields: lets the cross-field checks still run, so every problem is listed at once.
const validateKnown = new Ajv({ allErrors: true, useDefaults: true, strict: true, removeAdditional: "all" }).compile(schema);

/** Validates a parsed GuardrailConfig document and fills in defaults. Never throws. */
export function loadConfig(document: unknown): ConfigResult {
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { ok: false, problems: [{ path: "(document)", message: "must be a GuardrailConfig object" }] };
  }
  const copy = structuredClone(document);
  if (!validate(copy)) {
    const problems = describeSchemaErrors(validate.errors);
    const known = structuredClone(document);
    if (validate.errors?.every((e) => e.keyword === "additionalProperties") && validateKnown(known)) {
      problems.push(...crossCheck(known as unknown as GuardrailConfig).errors);
    }
    return { ok: false, problems };
  }
  const config = copy as unknown as GuardrailConfig;
  const { errors, notes } = crossCheck(config);
  if (errors.length > 0) return { ok: false, problems: errors };
  return { ok: true, loaded: { config, topology: buildTopology(config), notes } };
}

/** The configuration used when none is given: one cluster, no remotes, generic rules only. */
export function defaultConfig(): LoadedConfig {
  const result = loadConfig({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: { name: "local" } });
  if (!result.ok) throw new Error(`built-in default config is invalid: ${JSON.stringify(result.problems)}`);
  return result.loaded;
}
