import { Ajv } from "ajv";
import schema from "./guardrail-config.schema.json" with { type: "json" };
import { describeSchemaErrors, structurallyValid } from "../schema-errors.js";
import { buildTopology, type Topology } from "../topology.js";
import { checkBaselineDns } from "./baseline-dns.js";
import { configNotes, crossCheck } from "./cross-checks.js";
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

const validate = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true }).compile(schema);

/**
 * Validates a parsed GuardrailConfig document and fills in defaults. Never throws. Every problem
 * is listed at once: the checks the schema cannot express run on every part the schema accepted.
 */
export function loadConfig(document: unknown): ConfigResult {
  return load(document, { nameRequired: true });
}

function load(document: unknown, { nameRequired }: { nameRequired: boolean }): ConfigResult {
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    validate(document);
    return { ok: false, problems: describeSchemaErrors(validate.errors) };
  }
  const copy = structuredClone(document);
  validate(copy);
  const config = copy as unknown as GuardrailConfig;
  const valid = structurallyValid(validate.errors);
  const schemaProblems = describeSchemaErrors(validate.errors);
  const dnsValid = valid(["baseline", "dns"]) && !schemaProblems.some((p) => p.path.startsWith("baseline.dns"));
  const problems = [...schemaProblems, ...crossCheck(config, valid), ...(dnsValid ? checkBaselineDns(config) : [])];
  if (nameRequired && valid(["cluster"]) && config.cluster.name === undefined) {
    problems.push({ path: "cluster.name", message: "required field is missing" });
  }
  if (problems.length > 0) return { ok: false, problems };
  config.cluster.cni ??= config.cluster.policyScope === "cilium-clustermesh" ? "cilium" : "generic";
  return { ok: true, loaded: { config, topology: buildTopology(config), notes: configNotes(config) } };
}

/**
 * The configuration used when none is given: one cluster, no remotes, no declared name, ranges or CNI.
 * Nothing is invented: a rule that rests on an undeclared fact warns instead of denying.
 */
export function defaultConfig(): LoadedConfig {
  const result = load({ apiVersion: "netguard.dev/v1alpha1", kind: "GuardrailConfig", cluster: {} }, { nameRequired: false });
  if (!result.ok) throw new Error(`built-in default config is invalid: ${JSON.stringify(result.problems)}`);
  return result.loaded;
}
