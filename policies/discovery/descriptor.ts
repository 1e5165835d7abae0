/**
 * A cluster descriptor: this cluster as a ready `remoteClusters[]` entry for the other clusters' configs, with
 * where each fact came from and what could not be discovered. `netguard describe-cluster` prints it; the leader
 * publishes it in netguard's namespace for peers to import.
 */
import { Ajv } from "ajv";
import type { LoadedConfig } from "../config/load.js";
import { AddressSet } from "../net/address-set.js";
import { cidrReason, parseCidr } from "../net/cidr.js";
import { describeSchemaErrors } from "../schema-errors.js";
import type { ConfigProblem } from "../config/types.js";
import schema from "./cluster-descriptor.schema.json" with { type: "json" };
import { authoritativeLive, declaredLocal, RANGE_KINDS, topologyDrift } from "./drift.js";
import type { LiveRange, LiveTopology, SourceState } from "./live.js";
import { SOURCES, type RangeKind } from "./sources.js";

export const DESCRIPTOR_API_VERSION = "netguard.dev/v1alpha1";
export const DESCRIPTOR_KIND = "ClusterDescriptor";
/** The ConfigMap the leader publishes the descriptor in, and its key. */
export const DESCRIPTOR_CONFIGMAP = "netguard-cluster-descriptor";
export const DESCRIPTOR_KEY = "descriptor.json";

/** The fields of a `remoteClusters[]` entry that a descriptor can fill (connectivity is the importing side's). */
export interface DescribedCluster {
  name: string;
  podCIDRs: string[];
  serviceCIDRs: string[];
  nodeCIDRs: string[];
  natSourceCIDRs: string[];
  exposedCIDRs: string[];
  namespaces: string[];
}

export interface ClusterDescriptor {
  apiVersion: typeof DESCRIPTOR_API_VERSION;
  kind: typeof DESCRIPTOR_KIND;
  generatedAt: string;
  remoteCluster: DescribedCluster;
  /** Facts no API of this cluster shows, and why: the importing config declares them. */
  undiscovered: { field: string; why: string }[];
  sources: (SourceState & { kind: RangeKind; authoritative: boolean })[];
  discovered: LiveRange[];
  drift: { path: string; message: string; fix: string }[];
}

const FIELD = { pod: "podCIDRs", service: "serviceCIDRs", node: "nodeCIDRs" } as const;

/**
 * A kind's ranges: everything discovered, plus the declared ranges no authoritative source contradicts (a declared
 * range the allocator does not have is a typo, not a range to publish).
 */
function rangesOf(loaded: LoadedConfig, live: LiveTopology, kind: RangeKind): string[] {
  const authority = authoritativeLive(loaded.config, live, kind);
  const declared = loaded.config.cluster[FIELD[kind]]
    .map((text) => parseCidr(text)!)
    .filter((c) => !authority || AddressSet.of([c]).overlaps(authority.addresses));
  const discovered = live.ranges.filter((r) => r.kind === kind).map((r) => parseCidr(r.cidr)!);
  return AddressSet.of([...declared, ...discovered]).toCidrs();
}

function undiscovered(loaded: LoadedConfig, live: LiveTopology): ClusterDescriptor["undiscovered"] {
  const out: ClusterDescriptor["undiscovered"] = [
    { field: "connectivity", why: "how traffic crosses between two clusters (nat or routed) is a property of the link: each importing cluster declares it" },
  ];
  const { cluster } = loaded.config;
  if (cluster.natSourceCIDRs.length === 0) out.push({ field: "natSourceCIDRs", why: "no Kubernetes API shows a cloud NAT gateway's addresses: declare them in this cluster's cluster.natSourceCIDRs" });
  if (cluster.exposedCIDRs.length === 0) out.push({ field: "exposedCIDRs", why: "no Kubernetes API shows the addresses peers reach services here at: declare them in cluster.exposedCIDRs" });
  for (const kind of RANGE_KINDS) {
    const sources = live.sources.filter((s) => SOURCES[s.source].kind === kind);
    const seen = live.ranges.some((r) => r.kind === kind);
    const declared = !declaredLocal(loaded.config, kind).isEmpty();
    if (authoritativeLive(loaded.config, live, kind)) continue;
    const stateOf = (s: SourceState): string =>
      s.state === "failed" ? `failed (${s.error ?? "unknown error"})` : s.state === "absent" ? "not served" : live.ranges.some((r) => r.source === s.source) ? "read" : "empty";
    const states = sources.map((s) => `${SOURCES[s.source].objects}: ${stateOf(s)}`).join("; ");
    const partial = sources.filter((s) => s.state === "served").map((s) => SOURCES[s.source].cannot);
    if (!seen) out.push({ field: FIELD[kind], why: `no source showed any ${kind} range (${states || "no source"})${declared ? "; the declared ranges only" : ""}` });
    else if (partial.length > 0) out.push({ field: FIELD[kind], why: `complete only as far as its sources go: they cannot show ${partial.join("; nor ")}${declared ? "; the declared ranges are added" : ""}` });
  }
  return out;
}

/** This cluster's descriptor from its config, its live topology and its namespaces. */
export function buildDescriptor(loaded: LoadedConfig, live: LiveTopology, namespaces: readonly string[], now: Date): ClusterDescriptor {
  const { cluster } = loaded.config;
  return {
    apiVersion: DESCRIPTOR_API_VERSION,
    kind: DESCRIPTOR_KIND,
    generatedAt: now.toISOString(),
    remoteCluster: {
      name: cluster.name ?? "",
      podCIDRs: rangesOf(loaded, live, "pod"),
      serviceCIDRs: rangesOf(loaded, live, "service"),
      nodeCIDRs: rangesOf(loaded, live, "node"),
      natSourceCIDRs: [...cluster.natSourceCIDRs],
      exposedCIDRs: [...cluster.exposedCIDRs],
      namespaces: [...namespaces].sort(),
    },
    undiscovered: undiscovered(loaded, live),
    sources: live.sources.map((s) => ({ ...s, kind: SOURCES[s.source].kind, authoritative: SOURCES[s.source].authoritative(cluster.cni) })),
    discovered: [...live.ranges],
    drift: topologyDrift(loaded, live).map(({ path, message, fix }) => ({ path, message, fix })),
  };
}

const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const CIDR_FIELDS = ["podCIDRs", "serviceCIDRs", "nodeCIDRs", "natSourceCIDRs", "exposedCIDRs"] as const;

/** A descriptor as read from a peer: validated, every CIDR parsed; the problems otherwise (path and reason). */
export function readDescriptor(document: unknown): { ok: true; descriptor: ClusterDescriptor } | { ok: false; problems: ConfigProblem[] } {
  if (!validate(document)) return { ok: false, problems: describeSchemaErrors(validate.errors) };
  const descriptor = document as unknown as ClusterDescriptor;
  const problems = CIDR_FIELDS.flatMap((f) =>
    descriptor.remoteCluster[f].flatMap((text, i) => (parseCidr(text) ? [] : [{ path: `remoteCluster.${f}[${i}]`, message: cidrReason(text) }])),
  );
  if (Number.isNaN(Date.parse(descriptor.generatedAt))) problems.push({ path: "generatedAt", message: `"${descriptor.generatedAt}" is not an RFC 3339 time` });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, descriptor };
}

const STATES = new Set(["served", "absent", "failed"]);

/**
 * The live topology a descriptor carries (this cluster's, as its leader published it); undefined when it is not
 * one netguard wrote (an entry with an unknown source or a CIDR that does not parse), so nothing is read from it.
 */
export function liveFromDescriptor(descriptor: ClusterDescriptor): LiveTopology | undefined {
  const { discovered, sources } = descriptor as Partial<ClusterDescriptor>;
  if (!Array.isArray(discovered) || !Array.isArray(sources)) return undefined;
  const known = (s: unknown): s is keyof typeof SOURCES => typeof s === "string" && Object.hasOwn(SOURCES, s);
  const rangesOk = discovered.every((r) => known(r?.source) && r.kind === SOURCES[r.source].kind && typeof r.cidr === "string" && parseCidr(r.cidr) !== undefined && Array.isArray(r.objects) && typeof r.count === "number");
  const sourcesOk = sources.every((s) => known(s?.source) && STATES.has(s.state));
  if (!rangesOk || !sourcesOk) return undefined;
  return { ranges: discovered, sources: sources.map(({ source, state, error }) => ({ source, state, ...(error ? { error } : {}) })) };
}
