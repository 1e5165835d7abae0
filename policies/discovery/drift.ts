/**
 * The declared topology against the live one: ranges the cluster uses that the config does not declare, and
 * declared ranges that an authoritative source shows the cluster does not use.
 */
import type { LoadedConfig } from "../config/load.js";
import type { GuardrailConfig } from "../config/types.js";
import { AddressSet } from "../net/address-set.js";
import { parseCidr } from "../net/cidr.js";
import type { Finding } from "../types.js";
import { liveAddresses, type LiveRange, type LiveTopology } from "./live.js";
import { SOURCES, type RangeKind } from "./sources.js";

export const TOPOLOGY_DRIFT = "topology-drift";
export const RANGE_KINDS: readonly RangeKind[] = ["pod", "service", "node"];

const fieldOf = (kind: RangeKind): "podCIDRs" | "serviceCIDRs" | "nodeCIDRs" => `${kind}CIDRs`;

/** A live range, or the part of one, that the config does not declare. */
export interface UndeclaredRange {
  readonly range: LiveRange;
  readonly part: AddressSet;
}

export const declaredLocal = (config: GuardrailConfig, kind: RangeKind): AddressSet =>
  AddressSet.of(config.cluster[fieldOf(kind)].map((c) => parseCidr(c)).filter((c) => c !== undefined));

const memo = new WeakMap<LiveTopology, WeakMap<GuardrailConfig, readonly UndeclaredRange[]>>();

/** Every live range not covered by the declared ranges of its kind (memoized: the webhook asks per request). */
export function undeclaredLive(config: GuardrailConfig, live: LiveTopology): readonly UndeclaredRange[] {
  let byConfig = memo.get(live);
  if (!byConfig) memo.set(live, (byConfig = new WeakMap()));
  const known = byConfig.get(config);
  if (known) return known;
  const declared = new Map(RANGE_KINDS.map((k) => [k, declaredLocal(config, k)]));
  const out = live.ranges.flatMap((range) => {
    const part = AddressSet.of([parseCidr(range.cidr)!]).subtract(declared.get(range.kind)!);
    return part.isEmpty() ? [] : [{ range, part }];
  });
  byConfig.set(config, out);
  return out;
}

export const describeObjects = (r: LiveRange): string => `${r.objects.join(", ")}${r.count > r.objects.length ? ` and ${r.count - r.objects.length} more` : ""}`;

/** What the served sources that are authoritative for `kind` under this config's CNI show; undefined without one. */
export function authoritativeLive(config: GuardrailConfig, live: LiveTopology, kind: RangeKind): { addresses: AddressSet; names: string } | undefined {
  const sources = live.sources.filter((s) => s.state === "served" && SOURCES[s.source].kind === kind && SOURCES[s.source].authoritative(config.cluster.cni));
  if (sources.length === 0) return undefined;
  const ids = new Set(sources.map((s) => s.source));
  return { addresses: liveAddresses(live, kind, (r) => ids.has(r.source)), names: sources.map((s) => SOURCES[s.source].objects).join(" or ") };
}

/** Drift findings, each naming the exact config field to change. */
export function topologyDrift(loaded: LoadedConfig, live: LiveTopology): Finding[] {
  const { config } = loaded;
  const undeclared: Finding[] = undeclaredLive(config, live).map(({ range, part }) => {
    const field = `cluster.${fieldOf(range.kind)}`;
    const blocks = part.toCidrs();
    return {
      rule: TOPOLOGY_DRIFT,
      action: "warn",
      certainty: "provable",
      path: field,
      message:
        `the cluster uses ${range.cidr} for ${range.kind} addresses (${SOURCES[range.source].objects}: ${describeObjects(range)}), but ${field} does not declare ` +
        `${blocks.join(", ")}; rules that take these addresses for something else do not deny while it is missing.`,
      fix: `Add ${blocks.join(", ")} to ${field}.`,
    };
  });
  const unsupported = RANGE_KINDS.flatMap((kind) => {
    const authority = authoritativeLive(config, live, kind);
    if (!authority) return [];
    const { addresses: shown, names } = authority;
    return config.cluster[fieldOf(kind)].flatMap((text, i): Finding[] => {
      const cidr = parseCidr(text);
      if (!cidr || AddressSet.of([cidr]).overlaps(shown)) return [];
      const path = `cluster.${fieldOf(kind)}[${i}]`;
      return [
        {
          rule: TOPOLOGY_DRIFT,
          action: "warn",
          certainty: "provable",
          path,
          message: `${path} declares ${text}, but no ${names} holds it, and they list every ${kind} range this cluster uses: no ${kind} has an address there.`,
          fix: `Remove ${text} from cluster.${fieldOf(kind)}, or correct it to ${shown.toCidrs().join(", ") || "the cluster's range"}.`,
        },
      ];
    });
  });
  return [...undeclared, ...unsupported];
}
