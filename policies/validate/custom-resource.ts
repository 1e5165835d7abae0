/**
 * The Cilium and Calico policy kinds checked against their own CRDs' structural schemas
 * (manifests/crds/upstream, see SOURCES.md) the way kube-apiserver checks a custom resource: null fields
 * pruned, unknown fields refused as kubectl's strict field validation refuses them, int-or-string, nullable,
 * list-type set, the formats the apiserver knows; metadata as for any object.
 */
import { Ajv, type ErrorObject } from "ajv";
import { parseCidr } from "../net/cidr.js";
import { fieldPath, pointerSegments, type PathSegment } from "../path.js";
import { describeSchemaErrors } from "../schema-errors.js";
import type { InputError } from "../types.js";
import schemas from "./crd-schemas.generated.json" with { type: "json" };
import { decodeAs, structValue } from "./decode.js";
import { objectMetaType } from "./network-policy-schema.js";
import { generatedName, validateObjectMeta, type Meta } from "./object-meta.js";

export type CniPolicyKind = keyof typeof schemas;

const KINDS: Record<string, Partial<Record<string, CniPolicyKind>>> = {
  "cilium.io/v2": { CiliumNetworkPolicy: "CiliumNetworkPolicy", CiliumClusterwideNetworkPolicy: "CiliumClusterwideNetworkPolicy" },
  // Calico's API server serves v3; its CRDs (what calicoctl writes with the Kubernetes datastore) are v1.
  "projectcalico.org/v3": { NetworkPolicy: "CalicoNetworkPolicy", GlobalNetworkPolicy: "CalicoGlobalNetworkPolicy" },
  "crd.projectcalico.org/v1": { NetworkPolicy: "CalicoNetworkPolicy", GlobalNetworkPolicy: "CalicoGlobalNetworkPolicy" },
};

/** Which CNI policy kind an object is, from its apiVersion and kind; undefined for anything else. */
export function cniPolicyKindOf(object: unknown): CniPolicyKind | undefined {
  if (typeof object !== "object" || object === null) return undefined;
  const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
  return typeof apiVersion === "string" && typeof kind === "string" ? KINDS[apiVersion]?.[kind] : undefined;
}

type Schema = Record<string, unknown>;

/** RE2's one-letter Unicode classes (\\PC) in the braces ECMAScript's u flag requires (\\P{C}). */
export const ecmaPattern = (re2: string): string => re2.replace(/\\([pP])([A-Z])/g, "\\$1{$2}");

/** A Kubernetes structural schema as JSON Schema for ajv. */
function jsonSchema(node: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable") continue;
    if (key === "properties") out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, jsonSchema(v)]));
    else if (key === "items" || key === "not" || (key === "additionalProperties" && typeof value === "object")) out[key] = jsonSchema(value as Schema);
    else if (key === "pattern") out.pattern = ecmaPattern(String(value));
    else if (key === "oneOf" || key === "anyOf" || key === "allOf") out[key] = (value as Schema[]).map(jsonSchema);
    else out[key] = value;
  }
  if (node["x-kubernetes-int-or-string"]) out.type = ["integer", "string"];
  if (node.nullable && typeof out.type === "string") out.type = [out.type, "null"];
  if (node["x-kubernetes-list-type"] === "set") out.uniqueItems = true;
  // Fields a schema does not name are pruned by the apiserver and refused by strict field validation.
  if (node.type === "object" && node.properties && node.additionalProperties === undefined && !node["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
  return out;
}

const INT32 = 2 ** 31;
const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: false,
  formats: {
    // The formats kube-apiserver checks (apiextensions-apiserver validation/formats.go); others it ignores.
    cidr: (text: string) => parseCidr(text) !== undefined,
    int32: { type: "number", validate: (n: number) => n >= -INT32 && n < INT32 },
    int64: { type: "number", validate: () => true },
    "date-time": (text: string) => !Number.isNaN(Date.parse(text)),
    "idn-hostname": () => true,
  },
});

const validators = new Map<CniPolicyKind, ReturnType<Ajv["compile"]>>();
function validatorFor(kind: CniPolicyKind): ReturnType<Ajv["compile"]> {
  let validate = validators.get(kind);
  if (!validate) {
    const schema = jsonSchema(schemas[kind].schema as Schema);
    // metadata is checked as ObjectMeta below.
    (schema.properties as Record<string, Schema>).metadata = {};
    validate = ajv.compile(schema);
    validators.set(kind, validate);
  }
  return validate;
}

/** Object fields set to null, dropped as the apiserver prunes them from a custom resource. */
function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, pruneNulls(v)]));
}

/** A oneOf or anyOf whose branches each only require one field: "exactly one of" / "at least one of". */
function alternativesMessage(e: ErrorObject): string | undefined {
  const branches = e.schema as Schema[];
  const fields = branches.map((b) => (Array.isArray(b.required) && b.required.length === 1 ? String(b.required[0]) : undefined));
  if (fields.some((f) => f === undefined)) return undefined;
  const present = fields.filter((f) => Object.hasOwn((e.data ?? {}) as object, f!));
  if (e.keyword === "anyOf") return `must set at least one of ${fields.join(", ")}`;
  return present.length > 1 ? `may set only one of ${fields.join(", ")} (found ${present.join(" and ")})` : `must set exactly one of ${fields.join(", ")}`;
}

function schemaErrors(errors: ErrorObject[]): InputError[] {
  const alternatives = errors.filter((e) => (e.keyword === "oneOf" || e.keyword === "anyOf") && alternativesMessage(e) !== undefined);
  const inside = (e: ErrorObject) => alternatives.some((a) => e !== a && e.schemaPath.startsWith(`${a.schemaPath}/`));
  const explained = alternatives.map((e) => ({ path: fieldPath(pointerSegments(e.instancePath)) || "(document)", message: alternativesMessage(e)! }));
  const rest = describeSchemaErrors(errors.filter((e) => !alternatives.includes(e) && !inside(e))).map((p) =>
    p.message === "unknown field" ? { ...p, message: "unknown field (kubectl's default strict validation refuses it)" } : p,
  );
  return [...explained, ...rest];
}

/**
 * Every problem kube-apiserver would refuse the object for on CREATE, with its field path; and the object as it
 * would store it (null fields pruned), which is what the model must read.
 */
export function validateCustomResource(kind: CniPolicyKind, object: unknown): { object: unknown; errors: InputError[] } {
  const errors: InputError[] = [];
  const pruned = pruneNulls(object) as Record<string, unknown>;
  const validate = validatorFor(kind);
  if (!validate(pruned)) errors.push(...schemaErrors(validate.errors ?? []));
  const report = (at: PathSegment[], message: string) => errors.push({ path: fieldPath(at), message });
  const meta = structValue(decodeAs(pruned.metadata ?? {}, objectMetaType, ["metadata"], report)) as Meta;
  if (errors.length > 0) return { object: pruned, errors };
  const named = { ...meta, name: meta.name || (meta.generateName ? generatedName(meta.generateName) : undefined) };
  // A cluster-scoped object's namespace is cleared by the apiserver, not refused.
  validateObjectMeta(schemas[kind].scope === "Cluster" ? { ...named, namespace: undefined } : named, report);
  return { object: pruned, errors };
}
