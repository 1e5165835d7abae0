/**
 * A NetworkPolicy judged exactly as kube-apiserver judges it (k8s.io/kubernetes
 * pkg/apis/networking/validation, pkg/registry/networking/networkpolicy): strict decoding first,
 * then its defaults, then its validation of metadata and spec, on CREATE or on UPDATE.
 * The rules only ever see objects the apiserver would store, in the shape it stores them.
 */
import { cidrReason, parseCidr, writtenPrefix } from "../net/cidr.js";
import { fieldPath, type PathSegment } from "../path.js";
import type { LabelSelector } from "../selectors.js";
import type { InputError, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from "../types.js";
import { decodeAs, structValue, type DecodeReport } from "./decode.js";
import { labelValueErrors, portNameErrors, qualifiedNameErrors } from "./names.js";
import { networkPolicyType } from "./network-policy-schema.js";
import { generatedName, validateLabels, validateObjectMeta, validateObjectMetaUpdate, type Meta } from "./object-meta.js";

export interface ValidateOptions {
  /** CREATE (default) or UPDATE; an UPDATE needs the stored object as `oldObject`. */
  operation?: "CREATE" | "UPDATE";
  oldObject?: unknown;
}

interface SelectorOptions {
  /** UPDATE of a policy whose stored podSelector was already invalid: selector values are not checked. */
  allowInvalidLabelValues: boolean;
}

function checkSelector(selector: LabelSelector | undefined, at: PathSegment[], options: SelectorOptions, report: DecodeReport): void {
  if (!selector) return;
  validateLabels(selector.matchLabels, [...at, "matchLabels"], report);
  (selector.matchExpressions ?? []).forEach((req, i) => {
    const p = [...at, "matchExpressions", i];
    const values = req.values ?? [];
    if (req.operator === "In" || req.operator === "NotIn") {
      if (values.length === 0) report([...p, "values"], `must be non-empty when operator is ${req.operator}`);
    } else if (req.operator === "Exists" || req.operator === "DoesNotExist") {
      if (values.length > 0) report([...p, "values"], `must be empty when operator is ${req.operator}`);
    } else {
      report([...p, "operator"], `"${req.operator ?? ""}" is not a valid selector operator (In, NotIn, Exists, DoesNotExist)`);
    }
    for (const e of qualifiedNameErrors(req.key ?? "")) report([...p, "key"], `"${req.key ?? ""}" is not a valid label key: ${e}`);
    if (options.allowInvalidLabelValues) return;
    values.forEach((value, j) => {
      for (const e of labelValueErrors(value)) report([...p, "values", j], `"${value}" is not a valid label value: ${e}`);
    });
  });
}

/** A label selector checked as the apiserver checks a NetworkPolicy's: every problem with its path below `at`. */
export function labelSelectorErrors(selector: LabelSelector, at: readonly PathSegment[]): InputError[] {
  const errors: InputError[] = [];
  checkSelector(selector, [...at], { allowInvalidLabelValues: false }, (p, message) => errors.push({ path: fieldPath(p), message }));
  return errors;
}

function checkPort(port: NetworkPolicyPort, at: PathSegment[], report: DecodeReport): void {
  const inRange = (n: number) => n >= 1 && n <= 65535;
  if (port.protocol !== "TCP" && port.protocol !== "UDP" && port.protocol !== "SCTP") {
    report([...at, "protocol"], `must be one of: TCP, UDP, SCTP (not "${port.protocol}")`);
  }
  if (port.port === undefined) {
    if (port.endPort !== undefined) report([...at, "endPort"], "may not be set when port is not set");
  } else if (typeof port.port === "number") {
    if (!inRange(port.port)) report([...at, "port"], `${port.port} is not between 1 and 65535`);
    if (port.endPort !== undefined) {
      if (port.endPort < port.port) report([...at, "endPort"], `must be greater than or equal to port (${port.port})`);
      if (!inRange(port.endPort)) report([...at, "endPort"], `${port.endPort} is not between 1 and 65535`);
    }
  } else {
    if (port.endPort !== undefined) report([...at, "endPort"], "may not be set when port is a named port");
    const problems = portNameErrors(port.port);
    if (problems.length > 0) report([...at, "port"], `"${port.port}" is not a valid port name (at most 15 lowercase letters, digits and '-', with a letter): ${problems.join("; ")}`);
  }
}

function checkIPBlock(block: { cidr?: string; except?: string[] }, at: PathSegment[], report: DecodeReport): void {
  if (!block.cidr) {
    report([...at, "cidr"], "is required");
    return;
  }
  const cidr = parseCidr(block.cidr);
  if (!cidr) {
    report([...at, "cidr"], cidrReason(block.cidr));
    return;
  }
  (block.except ?? []).forEach((text, i) => {
    const except = parseCidr(text);
    // As Go's IPNet.Contains: the except's network address lies in cidr (same family once IPv4-mapped
    // addresses count as IPv4), and its prefix as written is longer than cidr's as written.
    if (!except) report([...at, "except", i], cidrReason(text));
    else if (except.family !== cidr.family) report([...at, "except", i], `"${text}" is not the same IP family as cidr ${block.cidr}`);
    else if (except.start < cidr.start || except.start > cidr.end || writtenPrefix(cidr) >= writtenPrefix(except)) {
      report([...at, "except", i], `"${text}" must be a strict subset of cidr ${block.cidr}`);
    }
  });
}

function checkPeer(peer: NetworkPolicyPeer, at: PathSegment[], options: SelectorOptions, report: DecodeReport): void {
  const set = (["podSelector", "namespaceSelector", "ipBlock"] as const).filter((f) => peer[f] !== undefined);
  checkSelector(peer.podSelector, [...at, "podSelector"], options, report);
  checkSelector(peer.namespaceSelector, [...at, "namespaceSelector"], options, report);
  if (peer.ipBlock) checkIPBlock(peer.ipBlock, [...at, "ipBlock"], report);
  if (set.length === 0) report(at, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
  else if (set.length > 1 && peer.ipBlock) report(at, "ipBlock may not be combined with podSelector or namespaceSelector; use separate peers");
}

function checkSpec(spec: NetworkPolicy["spec"], options: SelectorOptions, report: DecodeReport): void {
  checkSelector(spec.podSelector, ["spec", "podSelector"], options, report);
  for (const [direction, field] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    (spec[direction] ?? []).forEach((rule, i) => {
      const at = ["spec", direction, i];
      const peers = (rule as Record<string, NetworkPolicyPeer[] | undefined>)[field] ?? [];
      peers.forEach((peer, j) => checkPeer(peer, [...at, field, j], options, report));
      (rule.ports ?? []).forEach((port, j) => checkPort(port, [...at, "ports", j], report));
    });
  }
  const types = spec.policyTypes ?? [];
  if (types.length > 2) report(["spec", "policyTypes"], "must have at most 2 items");
  else types.forEach((t, i) => t !== "Ingress" && t !== "Egress" && report(["spec", "policyTypes", i], `must be one of: Ingress, Egress (not "${t}")`));
}

/**
 * Decodes (strictly) and defaults as the apiserver does: protocol TCP, policyTypes from the rules.
 * Undefined when decoding failed: a mistyped list item decodes to nothing, so there is nothing to default.
 */
function decodePolicy(input: unknown, report: DecodeReport): NetworkPolicy | undefined {
  let failed = false;
  const object = structValue(
    decodeAs(input, networkPolicyType, [], (at, message) => {
      failed = true;
      report(at, message);
    }),
  );
  if (failed) return undefined;
  const spec = structValue(object.spec) as NetworkPolicy["spec"];
  spec.podSelector ??= {};
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const port of rule.ports ?? []) port.protocol ??= "TCP";
  if (!spec.policyTypes?.length) spec.policyTypes = spec.egress?.length ? ["Ingress", "Egress"] : ["Ingress"];
  return { ...object, metadata: structValue(object.metadata), spec } as unknown as NetworkPolicy;
}

/**
 * Validates an object the way the apiserver validates a NetworkPolicy on CREATE (or, with
 * `operation: "UPDATE"` and the stored `oldObject`, on UPDATE). Returns the policy as the apiserver
 * would store it (defaults applied), or every problem with its field path.
 */
export function validateNetworkPolicy(input: unknown, options: ValidateOptions = {}): { policy?: NetworkPolicy; errors: InputError[] } {
  const errors: InputError[] = [];
  const report: DecodeReport = (at, message) => errors.push({ path: fieldPath(at), message });
  const policy = decodePolicy(input, report);
  if (!policy) return { errors };
  if (policy.apiVersion !== "networking.k8s.io/v1") report(["apiVersion"], "must be networking.k8s.io/v1");
  if (policy.kind !== "NetworkPolicy") report(["kind"], "must be NetworkPolicy");
  if (errors.length > 0) return { errors };
  const meta = policy.metadata as Meta;
  const update = options.operation === "UPDATE";
  const old = update ? decodePolicy(options.oldObject, () => undefined) : undefined;
  // An update may keep a podSelector the apiserver accepted before its values were checked.
  const stale: InputError[] = [];
  if (old) checkSelector(old.spec.podSelector, [], { allowInvalidLabelValues: false }, (at, message) => stale.push({ path: fieldPath(at), message }));
  const selectorOptions = { allowInvalidLabelValues: stale.length > 0 };

  const checked: Meta = update ? meta : { ...meta, generation: 1, name: meta.name || (meta.generateName ? generatedName(meta.generateName) : undefined) };
  validateObjectMeta(checked, report);
  if (old) validateObjectMetaUpdate(meta, old.metadata as Meta, report);
  checkSpec(policy.spec, selectorOptions, report);
  return errors.length > 0 ? { errors } : { policy, errors };
}
