/**
 * What the Cilium and Calico CRD schemas leave unchecked but the CNI (or Calico's API server) rejects: every
 * address is a CIDR or a single address, every Calico selector parses, every Calico rule's action is one Calico
 * knows. Checked after the schema.
 */
import { parseCalicoSelector } from "../kinds/calico-selector.js";
import { hostCidr } from "../model/address.js";
import { cidrReason, parseCidr } from "../net/cidr.js";
import { fieldPath, type PathSegment } from "../path.js";
import type { InputError } from "../types.js";
import { validateCustomResource, type CniPolicyKind } from "./custom-resource.js";

const CIDR_LISTS: Record<"cilium" | "calico", ReadonlySet<string>> = {
  cilium: new Set(["fromCIDR", "toCIDR", "except"]),
  calico: new Set(["nets", "notNets"]),
};
const CALICO_SELECTORS = new Set(["selector", "notSelector", "namespaceSelector", "serviceAccountSelector"]);
const CALICO_ACTIONS = ["Allow", "Deny", "Log", "Pass"];

function walk(value: unknown, at: PathSegment[], cni: "cilium" | "calico", errors: InputError[]): void {
  if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...at, i], cni, errors));
  if (typeof value !== "object" || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    const path = [...at, key];
    const addresses = CIDR_LISTS[cni].has(key) ? child : cni === "cilium" && key === "cidr" ? [child] : undefined;
    if (Array.isArray(addresses)) {
      addresses.forEach((text, i) => {
        if (typeof text === "string" && parseCidr(hostCidr(text))) return;
        errors.push({ path: fieldPath(key === "cidr" ? path : [...path, i]), message: cidrReason(text).replace(" has no prefix length", " is not an address") });
      });
    } else if (cni === "calico" && key === "action" && typeof child === "string" && (at.at(-2) === "ingress" || at.at(-2) === "egress")) {
      if (!CALICO_ACTIONS.includes(child)) errors.push({ path: fieldPath(path), message: `must be one of: ${CALICO_ACTIONS.join(", ")} (Calico refuses ${JSON.stringify(child)})` });
    } else if (cni === "calico" && CALICO_SELECTORS.has(key) && typeof child === "string") {
      const parsed = parseCalicoSelector(child);
      if ("error" in parsed) errors.push({ path: fieldPath(path), message: `${JSON.stringify(child)} is not a valid Calico selector: ${parsed.error}` });
    } else {
      walk(child, path, cni, errors);
    }
  }
}

/** Every problem the apiserver (schema) or the CNI would reject the object for, with its field path; and the object as stored. */
export function validateCniPolicy(kind: CniPolicyKind, input: unknown): { object: unknown; errors: InputError[] } {
  const { object, errors } = validateCustomResource(kind, input);
  if (errors.length > 0) return { object, errors };
  walk((object as { spec?: unknown }).spec, ["spec"], kind.startsWith("Cilium") ? "cilium" : "calico", errors);
  if (kind.startsWith("Cilium")) walk((object as { specs?: unknown }).specs, ["specs"], "cilium", errors);
  return { object, errors };
}
