import { AddressSet } from "../net/address-set.js";
import { parseCidr, type Cidr } from "../net/cidr.js";
import { SOURCES, type RangeKind, type Reading, type SourceId } from "./sources.js";

/** Whether a source could be read, and why not. A source not served says nothing: silence is never "no such range". */
export interface SourceState {
  readonly source: SourceId;
  /** served: listed; absent: the API or CRD is not served here; failed: served, but the read failed (error says why). */
  readonly state: "served" | "absent" | "failed";
  readonly error?: string;
}

/** One range a source shows, merged over its objects (5,000 nodes' /24s are a few blocks). */
export interface LiveRange {
  readonly kind: RangeKind;
  readonly source: SourceId;
  readonly cidr: string;
  /** Up to three of the objects it was read from, and how many there were. */
  readonly objects: readonly string[];
  readonly count: number;
}

/** What the cluster's API shows of its own ranges: the input of drift reports, descriptors and premises. */
export interface LiveTopology {
  readonly ranges: readonly LiveRange[];
  readonly sources: readonly SourceState[];
}

const SHOWN_OBJECTS = 3;

const byStart = (a: Cidr, b: Cidr): number => (a.family !== b.family ? a.family - b.family : a.start < b.start ? -1 : a.start > b.start ? 1 : 0);

function merged(source: SourceId, readings: readonly Reading[]): LiveRange[] {
  const parsed = readings.map((r) => ({ r, c: parseCidr(r.cidr)! })).sort((x, y) => byStart(x.c, y.c));
  const blocks = AddressSet.of(parsed.map((p) => p.c))
    .toCidrs()
    .map((text) => parseCidr(text)!);
  const out: LiveRange[] = [];
  let i = 0;
  for (const block of blocks) {
    const seen = new Set<string>();
    // Blocks and readings are both sorted; each reading lies in exactly one block.
    while (i < parsed.length && parsed[i]!.c.family === block.family && parsed[i]!.c.start <= block.end) {
      seen.add(parsed[i]!.r.object);
      i++;
    }
    out.push({ kind: SOURCES[source].kind, source, cidr: block.text, objects: [...seen].slice(0, SHOWN_OBJECTS), count: seen.size });
  }
  return out;
}

/** The live topology from every reading and each source's state (readings of a source not served are ignored). */
export function liveTopology(readings: readonly Reading[], sources: readonly SourceState[]): LiveTopology {
  const served = new Set(sources.filter((s) => s.state === "served").map((s) => s.source));
  const bySource = new Map<SourceId, Reading[]>();
  for (const r of readings) {
    if (!served.has(r.source) || !parseCidr(r.cidr)) continue;
    const list = bySource.get(r.source) ?? [];
    list.push(r);
    bySource.set(r.source, list);
  }
  return { ranges: [...bySource].flatMap(([source, list]) => merged(source, list)), sources };
}

/** Every address a kind of live range covers, over all sources (or only the authoritative ones). */
export function liveAddresses(live: LiveTopology, kind: RangeKind, pick: (r: LiveRange) => boolean = () => true): AddressSet {
  return AddressSet.of(live.ranges.filter((r) => r.kind === kind && pick(r)).map((r) => parseCidr(r.cidr)!));
}
