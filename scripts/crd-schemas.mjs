#!/usr/bin/env node
// The vendored Cilium and Calico CRDs' schemas, descriptions dropped, as the JSON policies/validate/custom-resource.ts
// imports (gitignored; `make deps` and the Dockerfile run this before tsc).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const upstream = join(root, "manifests/crds/upstream");
const SOURCES = {
  CiliumNetworkPolicy: "cilium/ciliumnetworkpolicies.yaml",
  CiliumClusterwideNetworkPolicy: "cilium/ciliumclusterwidenetworkpolicies.yaml",
  CalicoNetworkPolicy: "calico/crd.projectcalico.org_networkpolicies.yaml",
  CalicoGlobalNetworkPolicy: "calico/crd.projectcalico.org_globalnetworkpolicies.yaml",
};

const withoutDescriptions = (value) =>
  Array.isArray(value)
    ? value.map(withoutDescriptions)
    : value && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).filter(([k, v]) => !(k === "description" && typeof v === "string")).map(([k, v]) => [k, withoutDescriptions(v)]))
      : value;

const out = {};
for (const [kind, file] of Object.entries(SOURCES)) {
  const crd = parseAllDocuments(readFileSync(join(upstream, file), "utf8")).map((d) => d.toJS()).find((d) => d?.kind === "CustomResourceDefinition");
  const version = crd.spec.versions.find((v) => v.served && v.storage);
  out[kind] = { group: crd.spec.group, version: version.name, scope: crd.spec.scope, schema: withoutDescriptions(version.schema.openAPIV3Schema) };
}
writeFileSync(join(root, "policies/validate/crd-schemas.generated.json"), `${JSON.stringify(out)}\n`);
