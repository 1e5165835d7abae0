import { type Cidr, type Family, familyBits, formatCidr } from "./cidr.js";

type Interval = readonly [bigint, bigint];

/**
 * An exact, immutable set of IP addresses: sorted, disjoint, non-adjacent
 * intervals per address family. Used for cidr-minus-except and topology algebra.
 */
export class AddressSet {
  private constructor(
    private readonly v4: readonly Interval[],
    private readonly v6: readonly Interval[],
  ) {}

  static readonly empty = new AddressSet([], []);

  static of(cidrs: readonly Cidr[]): AddressSet {
    const v4: Interval[] = [];
    const v6: Interval[] = [];
    for (const c of cidrs) (c.family === 4 ? v4 : v6).push([c.start, c.end]);
    return new AddressSet(normalize(v4), normalize(v6));
  }

  private side(family: Family): readonly Interval[] {
    return family === 4 ? this.v4 : this.v6;
  }

  union(other: AddressSet): AddressSet {
    return new AddressSet(normalize([...this.v4, ...other.v4]), normalize([...this.v6, ...other.v6]));
  }

  intersect(other: AddressSet): AddressSet {
    return new AddressSet(intersect(this.v4, other.v4), intersect(this.v6, other.v6));
  }

  subtract(other: AddressSet): AddressSet {
    return new AddressSet(subtract(this.v4, other.v4), subtract(this.v6, other.v6));
  }

  isEmpty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  overlaps(other: AddressSet): boolean {
    return !this.intersect(other).isEmpty();
  }

  /** True when every address of this set is in `other`. */
  within(other: AddressSet): boolean {
    return this.subtract(other).isEmpty();
  }

  /** The part of this set in the address families where `other` has addresses. */
  inFamiliesOf(other: AddressSet): AddressSet {
    return new AddressSet(other.v4.length > 0 ? this.v4 : [], other.v6.length > 0 ? this.v6 : []);
  }

  /** The address families in which this set has addresses. */
  families(): Family[] {
    return ([4, 6] as const).filter((f) => this.side(f).length > 0);
  }

  /** Number of addresses in one family. */
  size(family: Family): bigint {
    return this.side(family).reduce((n, [a, b]) => n + (b - a + 1n), 0n);
  }

  /** Fraction (0..1) of this set's addresses that lie in `other`, weighted per family by address-space share. */
  shareIn(other: AddressSet): number {
    let share = 0;
    let families = 0;
    for (const family of [4, 6] as const) {
      const total = this.size(family);
      if (total === 0n) continue;
      families++;
      const inside = this.intersect(other).size(family);
      share += Number((inside * 1_000_000n) / total) / 1_000_000;
    }
    return families === 0 ? 0 : share / families;
  }

  /** The set as the fewest CIDR blocks, for messages. */
  toCidrs(): string[] {
    const out: string[] = [];
    for (const family of [4, 6] as const) {
      const bits = familyBits(family);
      for (const [a, b] of this.side(family)) {
        let start = a;
        while (start <= b) {
          let hostBits = 0;
          while (
            hostBits < bits &&
            (start & ((1n << BigInt(hostBits + 1)) - 1n)) === 0n &&
            start + (1n << BigInt(hostBits + 1)) - 1n <= b
          ) {
            hostBits++;
          }
          out.push(formatCidr({ family, start, prefix: bits - hostBits }));
          start += 1n << BigInt(hostBits);
        }
      }
    }
    return out;
  }
}

function normalize(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1n) {
      if (b > last[1]) last[1] = b;
    } else {
      out.push([a, b]);
    }
  }
  return out;
}

function intersect(xs: readonly Interval[], ys: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < xs.length && j < ys.length) {
    const [a1, b1] = xs[i]!;
    const [a2, b2] = ys[j]!;
    const lo = a1 > a2 ? a1 : a2;
    const hi = b1 < b2 ? b1 : b2;
    if (lo <= hi) out.push([lo, hi]);
    if (b1 < b2) i++;
    else j++;
  }
  return out;
}

function subtract(xs: readonly Interval[], ys: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const [a, b] of xs) {
    let start = a;
    while (j < ys.length && ys[j]![1] < start) j++;
    let k = j;
    while (k < ys.length && ys[k]![0] <= b && start <= b) {
      const [c, d] = ys[k]!;
      if (c > start) out.push([start, c - 1n]);
      start = d + 1n;
      k++;
    }
    if (start <= b) out.push([start, b]);
  }
  return out;
}
