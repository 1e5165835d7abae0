import fc from "fast-check";
import t from "tap";
import { AddressSet } from "../../policies/net/address-set.js";
import { parseCidr, type Cidr } from "../../policies/net/cidr.js";

const cidr = (text: string): Cidr => {
  const c = parseCidr(text);
  if (!c) throw new Error(`bad test CIDR ${text}`);
  return c;
};
const set = (...texts: string[]): AddressSet => AddressSet.of(texts.map(cidr));

t.test("construction merges overlapping and adjacent blocks", async (t) => {
  t.same(set("10.0.0.0/25", "10.0.0.128/25").toCidrs(), ["10.0.0.0/24"], "adjacent halves merge");
  t.same(set("10.0.0.0/24", "10.0.0.0/25").toCidrs(), ["10.0.0.0/24"], "a contained block disappears");
  t.same(set("10.0.1.0/24", "10.0.0.0/24").toCidrs(), ["10.0.0.0/23"], "order does not matter");
  t.same(set("10.0.0.0/24", "10.0.2.0/24").toCidrs(), ["10.0.0.0/24", "10.0.2.0/24"], "a gap is kept");
  t.same(set("fd00::/65", "fd00:0:0:0:8000::/65").toCidrs(), ["fd00::/64"]);
  t.same(set("fd00::/64", "10.0.0.0/8").toCidrs(), ["10.0.0.0/8", "fd00::/64"], "families are kept apart, IPv4 first");
  t.ok(AddressSet.empty.isEmpty());
  t.ok(AddressSet.of([]).isEmpty());
  t.same(AddressSet.empty.toCidrs(), []);
});

t.test("containment (within) and overlap", async (t) => {
  const pods = set("10.8.0.0/14", "fd00:8::/56");
  t.ok(set("10.8.0.0/16").within(pods));
  t.ok(set("10.11.255.255/32").within(pods), "last address");
  t.ok(set("fd00:8:0:ff::/64").within(pods));
  t.notOk(set("10.12.0.0/32").within(pods), "first address after the block");
  t.notOk(set("10.8.0.0/13").within(pods), "a larger block is not within");
  t.notOk(set("10.8.0.0/16", "10.12.0.0/16").within(pods), "within needs every address");
  t.ok(AddressSet.empty.within(pods), "the empty set is within anything");
  t.ok(set("10.0.0.0/8").overlaps(pods));
  t.ok(set("0.0.0.0/0").overlaps(pods));
  t.ok(set("10.11.255.255/32").overlaps(pods));
  t.notOk(set("10.7.255.255/32").overlaps(pods), "address just before");
  t.notOk(set("10.12.0.0/14").overlaps(pods), "block just after");
  t.notOk(set("::/0").overlaps(set("10.0.0.0/8")), "families never overlap");
  t.ok(set("::ffff:10.0.0.0/104").within(set("10.0.0.0/8")), "an IPv4-mapped block is the IPv4 block it maps, as Go (CNIs, the apiserver) reads it");
  t.notOk(AddressSet.empty.overlaps(pods));
  t.ok(pods.within(pods) && pods.overlaps(pods));
});

t.test("subtraction (cidr minus except) is exact", async (t) => {
  t.same(set("10.0.0.0/24").subtract(set("10.0.0.0/25")).toCidrs(), ["10.0.0.128/25"]);
  t.same(set("10.0.0.0/24").subtract(set("10.0.0.128/25")).toCidrs(), ["10.0.0.0/25"]);
  t.same(set("10.0.0.0/24").subtract(set("10.0.0.64/26")).toCidrs(), ["10.0.0.0/26", "10.0.0.128/25"], "a hole in the middle");
  t.same(set("10.0.0.0/24").subtract(set("10.0.0.0/25", "10.0.0.128/25")).toCidrs(), [], "adjacent excepts cover all");
  t.ok(set("10.0.0.0/24").subtract(set("10.0.0.0/25", "10.0.0.128/26", "10.0.0.192/26")).isEmpty(), "three adjacent pieces");
  t.same(
    set("10.0.0.0/24").subtract(set("10.0.0.0/25", "10.0.0.128/26", "10.0.0.192/27", "10.0.0.224/28", "10.0.0.240/29", "10.0.0.248/30", "10.0.0.252/31")).toCidrs(),
    ["10.0.0.254/31"],
  );
  t.same(set("10.0.0.0/24").subtract(set("10.0.0.1/32", "10.0.0.3/32")).toCidrs(), ["10.0.0.0/32", "10.0.0.2/32", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/28", "10.0.0.32/27", "10.0.0.64/26", "10.0.0.128/25"]);
  t.same(set("10.0.0.0/24").subtract(set("10.0.0.0/8")).toCidrs(), [], "subtracting a superset empties");
  t.same(set("10.0.0.0/24").subtract(set("10.0.1.0/24")).toCidrs(), ["10.0.0.0/24"], "subtracting a disjoint block is a no-op");
  t.same(set("10.0.0.0/24", "10.0.2.0/24").subtract(set("10.0.0.128/25", "10.0.1.0/24", "10.0.2.0/25")).toCidrs(), ["10.0.0.0/25", "10.0.2.128/25"], "one except spanning a gap and two intervals");
  t.same(set("10.0.0.0/23").subtract(set("10.0.0.255/32", "10.0.1.0/32")).toCidrs(), ["10.0.0.0/25", "10.0.0.128/26", "10.0.0.192/27", "10.0.0.224/28", "10.0.0.240/29", "10.0.0.248/30", "10.0.0.252/31", "10.0.0.254/32", "10.0.1.1/32", "10.0.1.2/31", "10.0.1.4/30", "10.0.1.8/29", "10.0.1.16/28", "10.0.1.32/27", "10.0.1.64/26", "10.0.1.128/25"], "excepts straddling the /24 boundary");
  t.same(set("fd00::/64").subtract(set("fd00::/65")).toCidrs(), ["fd00::8000:0:0:0/65"], "RFC 5952: the first of two equal zero runs is compressed");
  t.same(set("::/0").subtract(set("::/1", "8000::/1")).toCidrs(), [], "IPv6 whole space");
  t.same(set("0.0.0.0/0").subtract(set("0.0.0.0/1")).toCidrs(), ["128.0.0.0/1"]);
  t.same(set("10.0.0.0/8").subtract(set("fd00::/8")).toCidrs(), ["10.0.0.0/8"], "the other family is untouched");
});

t.test("intersection and union", async (t) => {
  t.same(set("10.0.0.0/8").intersect(set("10.8.0.0/14", "192.168.0.0/16")).toCidrs(), ["10.8.0.0/14"]);
  t.same(set("10.0.0.0/24").intersect(set("10.0.0.128/25", "10.0.0.0/26")).toCidrs(), ["10.0.0.0/26", "10.0.0.128/25"]);
  t.ok(set("10.0.0.0/24").intersect(set("10.0.1.0/24")).isEmpty());
  t.same(set("10.0.0.0/25").union(set("10.0.0.128/25")).toCidrs(), ["10.0.0.0/24"]);
  t.same(set("fd00::/64").union(set("10.0.0.0/8")).toCidrs(), ["10.0.0.0/8", "fd00::/64"]);
});

t.test("inFamiliesOf keeps only the families the other set has addresses in", async (t) => {
  const dual = set("10.200.0.0/16", "fd00:200::/56");
  t.same(dual.inFamiliesOf(set("10.200.1.0/24")).toCidrs(), ["10.200.0.0/16"]);
  t.same(dual.inFamiliesOf(set("fd00:200::/64")).toCidrs(), ["fd00:200::/56"]);
  t.same(dual.inFamiliesOf(set("192.0.2.0/24", "2001:db8::/32")).toCidrs(), ["10.200.0.0/16", "fd00:200::/56"]);
  t.ok(dual.inFamiliesOf(AddressSet.empty).isEmpty());
});

t.test("size counts addresses per family", async (t) => {
  const s = set("10.0.0.0/24", "10.0.1.0/25", "fd00::/120");
  t.equal(s.size(4), 384n);
  t.equal(s.size(6), 256n);
  t.equal(set("0.0.0.0/0").size(4), 1n << 32n);
  t.equal(set("::/0").size(6), 1n << 128n);
  t.equal(AddressSet.empty.size(4), 0n);
});

t.test("toCidrs gives the minimal exact decomposition", async (t) => {
  t.same(set("0.0.0.0/0").toCidrs(), ["0.0.0.0/0"]);
  t.same(set("::/0").toCidrs(), ["::/0"]);
  t.same(set("10.8.3.7/14").toCidrs(), ["10.8.0.0/14"], "normalized with host bits cleared");
  // 10.0.0.1 .. 10.0.0.6 = .1/32 .2/31 .4/31 .6/32
  t.same(set("10.0.0.0/29").subtract(set("10.0.0.0/32", "10.0.0.7/32")).toCidrs(), ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]);
  t.same(set("0.0.0.0/0").subtract(set("10.0.0.0/8")).toCidrs(), ["0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"]);
  t.same(set("255.255.255.254/31").toCidrs(), ["255.255.255.254/31"], "top of the space");
  t.same(set("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128").toCidrs(), ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"]);
});

t.test("shareIn is the fraction of addresses inside, averaged over families present", async (t) => {
  t.equal(set("10.0.0.0/24").shareIn(set("10.0.0.0/25")), 0.5);
  t.equal(set("10.0.0.0/24").shareIn(set("10.0.0.0/26")), 0.25);
  t.equal(set("10.0.0.0/24").shareIn(set("10.0.0.0/8")), 1);
  t.equal(set("10.0.0.0/24").shareIn(set("10.0.1.0/24")), 0);
  t.equal(set("10.0.0.0/24", "fd00::/64").shareIn(set("10.0.0.0/24")), 0.5, "IPv4 all in, IPv6 none");
  t.equal(AddressSet.empty.shareIn(set("10.0.0.0/8")), 0, "an empty set has no share");
  t.ok(set("0.0.0.0/0").shareIn(set("10.100.0.0/16")) < 0.001, "a broad range is barely in a /16");
});

// --- Randomized cross-check against a brute-force set over two tiny ranges -----------------------

/** The tiny universes: 10.0.0.0/24 and fd00::/120, each 256 addresses numbered 0..255. */
const UNIVERSES = [
  { family: 4 as const, base: (n: number, p: number) => `10.0.0.${n}/${24 + p}` },
  { family: 6 as const, base: (n: number, p: number) => `fd00::${n.toString(16)}/${120 + p}` },
];

/** A CIDR inside the universe: host part `n`, extra prefix bits `p` (0..8). */
const arbBlock = fc.record({ n: fc.integer({ min: 0, max: 255 }), p: fc.integer({ min: 0, max: 8 }) });
const arbBlocks = fc.array(arbBlock, { maxLength: 6 });

type Block = { n: number; p: number };
const brute = (blocks: Block[]): Set<number> => {
  const out = new Set<number>();
  for (const { n, p } of blocks) {
    const size = 1 << (8 - p);
    const start = n & ~(size - 1) & 0xff;
    for (let a = start; a < start + size; a++) out.add(a);
  }
  return out;
};
const toSet = (blocks: Block[], base: (n: number, p: number) => string): AddressSet => AddressSet.of(blocks.map(({ n, p }) => cidr(base(n, p))));

/** Addresses of an AddressSet, by re-parsing its decomposition, as offsets in the universe. */
const membersOf = (s: AddressSet, family: 4 | 6): Set<number> => {
  const out = new Set<number>();
  for (const text of s.toCidrs()) {
    const c = cidr(text);
    if (c.family !== family) throw new Error(`unexpected family in ${text}`);
    const base = family === 4 ? cidr("10.0.0.0/24").start : cidr("fd00::/120").start;
    for (let a = c.start; a <= c.end; a++) {
      const off = Number(a - base);
      if (off < 0 || off > 255) throw new Error(`${text} leaves the universe`);
      out.add(off);
    }
  }
  return out;
};

/** Minimal number of CIDRs that exactly cover `members`, by walking the prefix tree. */
const minimalCount = (members: Set<number>, start = 0, size = 256): number => {
  let inside = 0;
  for (let a = start; a < start + size; a++) if (members.has(a)) inside++;
  if (inside === 0) return 0;
  if (inside === size) return 1;
  return minimalCount(members, start, size / 2) + minimalCount(members, start + size / 2, size / 2);
};

const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);

for (const universe of UNIVERSES) {
  t.test(`randomized set algebra agrees with brute force (IPv${universe.family})`, async (t) => {
    fc.assert(
      fc.property(arbBlocks, arbBlocks, (xs, ys) => {
        const a = toSet(xs, universe.base);
        const b = toSet(ys, universe.base);
        const ba = brute(xs);
        const bb = brute(ys);
        const union = new Set([...ba, ...bb]);
        const inter = new Set([...ba].filter((x) => bb.has(x)));
        const diff = new Set([...ba].filter((x) => !bb.has(x)));

        const check = (label: string, got: AddressSet, want: Set<number>): void => {
          const members = sorted(membersOf(got, universe.family));
          if (JSON.stringify(members) !== JSON.stringify(sorted(want))) throw new Error(`${label}: got ${got.toCidrs().join(",")}`);
          if (got.size(universe.family) !== BigInt(want.size)) throw new Error(`${label}: size ${got.size(universe.family)} != ${want.size}`);
          if (got.toCidrs().length !== minimalCount(want)) throw new Error(`${label}: ${got.toCidrs().length} blocks, minimal is ${minimalCount(want)}`);
          if (got.isEmpty() !== (want.size === 0)) throw new Error(`${label}: isEmpty`);
        };
        check("set", a, ba);
        check("union", a.union(b), union);
        check("intersect", a.intersect(b), inter);
        check("subtract", a.subtract(b), diff);
        if (a.overlaps(b) !== inter.size > 0) throw new Error("overlaps");
        if (a.within(b) !== [...ba].every((x) => bb.has(x))) throw new Error("within");
        const share = a.shareIn(b);
        const want = ba.size === 0 ? 0 : inter.size / ba.size;
        if (Math.abs(share - want) > 1e-6) throw new Error(`shareIn ${share} != ${want}`);
      }),
      { numRuns: 500 },
    );
    t.pass("500 random pairs agree");
  });
}

t.test("randomized: cidr minus except equals brute force, except always a subset", async (t) => {
  fc.assert(
    fc.property(arbBlock, arbBlocks, (whole, excepts) => {
      const base = UNIVERSES[0]!.base;
      const got = AddressSet.of([cidr(base(whole.n, whole.p))]).subtract(toSet(excepts, base));
      const want = new Set([...brute([whole])].filter((x) => !brute(excepts).has(x)));
      return JSON.stringify(sorted(membersOf(got, 4))) === JSON.stringify(sorted(want));
    }),
    { numRuns: 500 },
  );
  t.pass("500 random ipBlocks agree");
});
