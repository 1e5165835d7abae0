import { Ajv } from "ajv";
import { isLabelKey, isLabelValue } from "../config/cross-checks.js";
import { AddressSet } from "../net/address-set.js";
import { cidrReason, parseCidr } from "../net/cidr.js";
import { fieldPath, type PathSegment } from "../path.js";
import { describeSchemaErrors } from "../schema-errors.js";
import type { LabelSelector } from "../selectors.js";
import type { InputError, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from "../types.js";
import { networkPolicySchema } from "./network-policy-schema.js";

const validateShape = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(networkPolicySchema);

const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

type Report = (at: PathSegment[], message: string) => void;

function checkSelector(selector: LabelSelector | undefined, at: PathSegment[], report: Report): void {
  if (!selector) return;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!isLabelKey(key)) report([...at, "matchLabels"], `"${key}" is not a valid label key`);
    if (!isLabelValue(value)) report([...at, "matchLabels", key], `"${value}" is not a valid label value`);
  }
  (selector.matchExpressions ?? []).forEach((req, i) => {
    const p = [...at, "matchExpressions", i];
    if (!isLabelKey(req.key)) report([...p, "key"], `"${req.key}" is not a valid label key`);
    const values = req.values ?? [];
    if ((req.operator === "In" || req.operator === "NotIn") && values.length === 0) {
      report([...p, "values"], `must be non-empty when operator is ${req.operator}`);
    }
    if ((req.operator === "Exists" || req.operator === "DoesNotExist") && values.length > 0) {
      report([...p, "values"], `must be empty when operator is ${req.operator}`);
    }
    values.forEach((value, j) => {
      if (!isLabelValue(value)) report([...p, "values", j], `"${value}" is not a valid label value`);
    });
  });
}

function checkPort(port: NetworkPolicyPort, at: PathSegment[], report: Report): void {
  if (typeof port.port === "number" && (port.port < 1 || port.port > 65535)) {
    report([...at, "port"], `${port.port} is not between 1 and 65535`);
  }
  if (typeof port.port === "string" && !IANA_SVC_NAME.test(port.port)) {
    report([...at, "port"], `"${port.port}" is not a valid port name (at most 15 lowercase letters, digits and '-', with a letter)`);
  }
  if (port.endPort === undefined) return;
  const endPort = [...at, "endPort"];
  if (port.port === undefined) report(endPort, "may not be set when port is not set");
  else if (typeof port.port === "string") report(endPort, "may not be set when port is a named port");
  else if (port.endPort < port.port) report(endPort, `must be greater than or equal to port (${port.port})`);
  else if (port.endPort > 65535) report(endPort, `${port.endPort} is not between 1 and 65535`);
}

function checkPeer(peer: NetworkPolicyPeer, at: PathSegment[], report: Report): void {
  const set = (["podSelector", "namespaceSelector", "ipBlock"] as const).filter((f) => peer[f] !== undefined);
  if (set.length === 0) report(at, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
  if (peer.ipBlock && set.length > 1) report(at, "ipBlock may not be combined with podSelector or namespaceSelector; use separate peers");
  checkSelector(peer.podSelector, [...at, "podSelector"], report);
  checkSelector(peer.namespaceSelector, [...at, "namespaceSelector"], report);
  if (!peer.ipBlock) return;
  const cidr = parseCidr(peer.ipBlock.cidr);
  if (!cidr) {
    report([...at, "ipBlock", "cidr"], cidrReason(peer.ipBlock.cidr));
    return;
  }
  const whole = AddressSet.of([cidr]);
  (peer.ipBlock.except ?? []).forEach((text, i) => {
    const p = [...at, "ipBlock", "except", i];
    const except = parseCidr(text);
    if (!except) report(p, cidrReason(text));
    else if (except.family !== cidr.family) report(p, `"${text}" is not the same IP family as cidr ${cidr.text}`);
    else if (!AddressSet.of([except]).within(whole) || except.prefix <= cidr.prefix) report(p, `"${text}" must be a strict subset of cidr ${cidr.text}`);
  });
}

/**
 * The apiserver decodes a field set to null as if it were absent (YAML `matchLabels:` with nothing
 * after it is common in published policies), so such fields are dropped before validation.
 */
function withoutNullFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullFields);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNullFields(v)]),
  );
}

/**
 * Validates an object the way the apiserver validates a NetworkPolicy, so the rules only ever see
 * well-formed input. Returns the typed policy, or every problem with its field path.
 */
export function validateNetworkPolicy(input: unknown): { policy?: NetworkPolicy; errors: InputError[] } {
  const object = withoutNullFields(input);
  if (!validateShape(object)) return { errors: describeSchemaErrors(validateShape.errors) };
  const policy = object as unknown as NetworkPolicy;
  const errors: InputError[] = [];
  const report: Report = (at, message) => errors.push({ path: fieldPath(at), message });
  checkSelector(policy.spec.podSelector, ["spec", "podSelector"], report);
  for (const [direction, field] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    (policy.spec[direction] ?? []).forEach((rule, i) => {
      const at = ["spec", direction, i];
      const peers = (rule as Record<string, NetworkPolicyPeer[] | undefined>)[field] ?? [];
      peers.forEach((peer, j) => checkPeer(peer, [...at, field, j], report));
      (rule.ports ?? []).forEach((port, j) => checkPort(port, [...at, "ports", j], report));
    });
  }
  if (errors.length > 0) return { errors };
  // The apiserver decodes an omitted podSelector as {} (select every pod).
  return { policy: { ...policy, spec: { ...policy.spec, podSelector: policy.spec.podSelector ?? {} } }, errors };
}
