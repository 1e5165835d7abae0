/**
 * A NetworkPolicy judged exactly as kube-apiserver judges it (k8s.io/kubernetes
 * pkg/apis/networking/validation, pkg/registry/networking/networkpolicy): strict decoding first,
 * then its defaults, then its validation of metadata and spec, on CREATE or on UPDATE.
 * The rules only ever see objects the apiserver would store, in the shape it stores them.
 */
import { parseCidr, writtenPrefix } from "../net/cidr.js";
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
      if (values.length === 0) report([...p, "values"], "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (req.operator === "Exists" || req.operator === "DoesNotExist") {
      if (values.length > 0) report([...p, "values"], "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
      report([...p, "operator"], `"${req.operator ?? ""}" is not a valid selector operator (In, NotIn, Exists, DoesNotExist)`);
    }
    for (const e of qualifiedNameErrors(req.key ?? "")) report([...p, "key"], `"${req.key ?? ""}": ${e}`);
    if (options.allowInvalidLabelValues) return;
    values.forEach((value, j) => {
      for (const e of labelValueErrors(value)) report([...p, "values", j], `"${value}": ${e}`);
    });
  });
}

function checkPort(port: NetworkPolicyPort, at: PathSegment[], report: DecodeReport): void {
  const inRange = (n: number) => n >= 1 && n <= 65535;
  if (port.protocol !== "TCP" && port.protocol !== "UDP" && port.protocol !== "SCTP") {
    report([...at, "protocol"], `"${port.protocol}" is not supported (TCP, UDP or SCTP)`);
  }
  if (port.port === undefined) {
    if (port.endPort !== undefined) report([...at, "endPort"], "may not be specified when `port` is not specified");
  } else if (typeof port.port === "number") {
    if (!inRange(port.port)) report([...at, "port"], `${port.port} must be between 1 and 65535, inclusive`);
    if (port.endPort !== undefined) {
      if (port.endPort < port.port) report([...at, "endPort"], `must be greater than or equal to \`port\` (${port.port})`);
      if (!inRange(port.endPort)) report([...at, "endPort"], `${port.endPort} must be between 1 and 65535, inclusive`);
    }
  } else {
    if (port.endPort !== undefined) report([...at, "endPort"], "may not be specified when `port` is non-numeric");
    for (const e of portNameErrors(port.port)) report([...at, "port"], `"${port.port}" is not a valid port name: ${e}`);
  }
}

const cidrProblem = (text: string): string => `"${text}" must be a valid CIDR value (e.g. 10.9.8.0/24 or 2001:db8::/64)`;

function checkIPBlock(block: { cidr?: string; except?: string[] }, at: PathSegment[], report: DecodeReport): void {
  if (!block.cidr) {
    report([...at, "cidr"], "is required");
    return;
  }
  const cidr = parseCidr(block.cidr);
  if (!cidr) {
    report([...at, "cidr"], cidrProblem(block.cidr));
    return;
  }
  (block.except ?? []).forEach((text, i) => {
    const except = parseCidr(text);
    if (!except) report([...at, "except", i], cidrProblem(text));
    // As Go's IPNet.Contains: the except's network address lies in cidr (same family once IPv4-mapped
    // addresses count as IPv4), and its prefix as written is longer than cidr's as written.
    else if (except.family !== cidr.family || except.start < cidr.start || except.start > cidr.end || writtenPrefix(cidr) >= writtenPrefix(except)) {
      report([...at, "except", i], `"${text}" must be a strict subset of \`cidr\` (${block.cidr})`);
    }
  });
}

function checkPeer(peer: NetworkPolicyPeer, at: PathSegment[], options: SelectorOptions, report: DecodeReport): void {
  const set = (["podSelector", "namespaceSelector", "ipBlock"] as const).filter((f) => peer[f] !== undefined);
  checkSelector(peer.podSelector, [...at, "podSelector"], options, report);
  checkSelector(peer.namespaceSelector, [...at, "namespaceSelector"], options, report);
  if (peer.ipBlock) checkIPBlock(peer.ipBlock, [...at, "ipBlock"], report);
  if (set.length === 0) report(at, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
  else if (set.length > 1 && peer.ipBlock) report(at, "may not specify both ipBlock and another peer; use separate peers");
}

function checkSpec(spec: NetworkPolicy["spec"], options: SelectorOptions, report: DecodeReport): void {
  checkSelector(spec.podSelector, ["spec", "podSelector"], options, report);
  for (const [direction, field] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    (spec[direction] ?? []).forEach((rule, i) => {
      const at = ["spec", direction, i];
      (rule.ports ?? []).forEach((port, j) => checkPort(port, [...at, "ports", j], report));
      const peers = (rule as Record<string, NetworkPolicyPeer[] | undefined>)[field] ?? [];
      peers.forEach((peer, j) => checkPeer(peer, [...at, field, j], options, report));
    });
  }
  const types = spec.policyTypes ?? [];
  if (types.length > 2) report(["spec", "policyTypes"], "may not specify more than two policyTypes");
  else types.forEach((t, i) => t !== "Ingress" && t !== "Egress" && report(["spec", "policyTypes", i], `"${t}" is not supported (Ingress or Egress)`));
}

/** Decodes (strictly) and defaults as the apiserver does: protocol TCP, policyTypes from the rules. */
function decodePolicy(input: unknown, report: DecodeReport): NetworkPolicy {
  const object = structValue(decodeAs(input, networkPolicyType, [], report));
  const spec = structValue(object.spec) as NetworkPolicy["spec"];
  spec.podSelector ??= {};
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const port of rule.ports ?? []) port.protocol ??= "TCP";
  if (!spec.policyTypes?.length) spec.policyTypes = spec.egress?.length ? ["Ingress", "Egress"] : ["Ingress"];
  return { ...object, metadata: structValue(object.metadata), spec } as unknown as NetworkPolicy;
}

/**
 * Validates an object the way the apiserver validates a NetworkPolicy on CREATE (or, with
 * `operation: "UPDATE"` and the stored `oldObject`, on UPDATE). Returns the policy as the apiserver
 * would store it (defaults applied), or every problem with its field path. `apiVersion` and `kind`
 * are the caller's to check (they choose the type).
 */
export function validateNetworkPolicy(input: unknown, options: ValidateOptions = {}): { policy?: NetworkPolicy; errors: InputError[] } {
  const errors: InputError[] = [];
  const report: DecodeReport = (at, message) => errors.push({ path: fieldPath(at), message });
  const policy = decodePolicy(input, report);
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
