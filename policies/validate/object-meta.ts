/**
 * metadata as the apiserver validates it for a namespaced object whose name is a DNS subdomain
 * (k8s.io/apimachinery/pkg/api/validation/objectmeta.go), on CREATE and on UPDATE.
 */
import type { PathSegment } from "../path.js";
import type { DecodeReport } from "./decode.js";
import { dns1123LabelErrors, dns1123SubdomainErrors, goToLower, labelValueErrors, qualifiedNameErrors } from "./names.js";

export interface Meta {
  name?: string;
  generateName?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[];
  finalizers?: string[];
}

const STANDARD_FINALIZERS = ["kubernetes", "orphan", "foregroundDeletion"];
const TOTAL_ANNOTATION_BYTES = 256 * 1024;
const at = (...segments: PathSegment[]): PathSegment[] => ["metadata", ...segments];

/** A generated name is generateName cut to 58 bytes plus five random characters (names.SimpleNameGenerator). */
export function generatedName(generateName: string): string {
  return `${generateName.slice(0, 58)}x0x0x`;
}

/** Label keys and values (metadata.labels, a selector's matchLabels): a bad key at the map, a bad value at its key. */
export function validateLabels(labels: Record<string, string> | undefined, path: PathSegment[], report: DecodeReport): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const keyErrors = qualifiedNameErrors(key);
    if (keyErrors.length > 0) report(path, `"${key}" is not a valid label key: ${keyErrors.join("; ")}`);
    const valueErrors = labelValueErrors(value);
    if (valueErrors.length > 0) report([...path, key], `"${value}" is not a valid label value: ${valueErrors.join("; ")}`);
  }
}

function validateOwnerReferences(refs: Meta["ownerReferences"], report: DecodeReport): void {
  let controllers = 0;
  (refs ?? []).forEach((ref, i) => {
    const p = at("ownerReferences", i);
    const version = (ref.apiVersion ?? "").split("/").at(-1) ?? "";
    if (version === "" || (ref.apiVersion ?? "").split("/").length > 2) report([...p, "apiVersion"], "version must not be empty");
    if (!ref.kind) report([...p, "kind"], "must not be empty");
    if (!ref.name) report([...p, "name"], "must not be empty");
    if (!ref.uid) report([...p, "uid"], "must not be empty");
    if (ref.apiVersion === "v1" && ref.kind === "Event") report(p, "/v1, Kind=Event is disallowed from being an owner");
    if (ref.controller && ++controllers > 1) report(at("ownerReferences"), "only one reference can have controller set to true");
  });
}

function validateFinalizers(finalizers: string[] | undefined, report: DecodeReport): void {
  const list = finalizers ?? [];
  list.forEach((f, i) => {
    for (const e of qualifiedNameErrors(f)) report(at("finalizers", i), `"${f}": ${e}`);
    // A name without a domain must be one of Kubernetes' own (core validation's validateKubeFinalizerName).
    if (!f.includes("/") && !STANDARD_FINALIZERS.includes(f)) report(at("finalizers", i), `"${f}" is neither a standard finalizer name (${STANDARD_FINALIZERS.join(", ")}) nor fully qualified (example.com/name)`);
  });
  if (list.includes("orphan") && list.includes("foregroundDeletion")) {
    report(at("finalizers"), "finalizer orphan and foregroundDeletion cannot be both set");
  }
}

/** ValidateObjectMeta (name or generateName, namespace, labels, annotations, owners, finalizers). */
export function validateObjectMeta(meta: Meta, report: DecodeReport): void {
  if (meta.generateName) {
    const masked = meta.generateName.length > 1 && meta.generateName.endsWith("-") ? `${meta.generateName.slice(0, -2)}a` : meta.generateName;
    for (const e of dns1123SubdomainErrors(masked)) report(at("generateName"), e);
  }
  if (!meta.name) report(at("name"), "name or generateName is required");
  else for (const e of dns1123SubdomainErrors(meta.name)) report(at("name"), e);
  // An object without a namespace takes the request's (kubectl sends its context's namespace).
  for (const e of meta.namespace ? dns1123LabelErrors(meta.namespace) : []) report(at("namespace"), e);
  if ((meta.generation ?? 0) < 0) report(at("generation"), "must be greater than or equal to 0");
  validateLabels(meta.labels, at("labels"), report);
  let size = 0;
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    for (const e of qualifiedNameErrors(goToLower(key))) report(at("annotations"), `annotation key "${key}": ${e}`);
    size += Buffer.byteLength(key, "utf8") + Buffer.byteLength(value, "utf8");
  }
  if (size > TOTAL_ANNOTATION_BYTES) report(at("annotations"), `annotations may not total more than ${TOTAL_ANNOTATION_BYTES} bytes (keys and values)`);
  validateOwnerReferences(meta.ownerReferences, report);
  validateFinalizers(meta.finalizers, report);
}

/** ValidateObjectMetaUpdate: what an update may not change. */
export function validateObjectMetaUpdate(meta: Meta, old: Meta, report: DecodeReport): void {
  if (old.deletionTimestamp) {
    const added = (meta.finalizers ?? []).filter((f) => !(old.finalizers ?? []).includes(f));
    if (added.length > 0) report(at("finalizers"), `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`);
  }
  if (!meta.resourceVersion) report(at("resourceVersion"), "must be specified for an update");
  if ((meta.generation ?? 0) < (old.generation ?? 0)) report(at("generation"), "must not be decremented");
  for (const field of ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"] as const) {
    if ((meta[field] ?? "") !== (old[field] ?? "")) report(at(field), "field is immutable");
  }
}
