import t from "tap";
import { cidrReason, formatCidr, formatIP, parseCidr, parseIP } from "../../policies/net/cidr.js";

const v4 = (a: number, b: number, c: number, d: number): bigint => BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);

t.test("IPv4 CIDRs parse to exact ranges", async (t) => {
  const c = parseCidr("10.8.0.0/14");
  t.ok(c);
  t.equal(c!.family, 4);
  t.equal(c!.prefix, 14);
  t.equal(c!.start, v4(10, 8, 0, 0));
  t.equal(c!.end, v4(10, 11, 255, 255));
  t.equal(c!.text, "10.8.0.0/14");

  const all = parseCidr("0.0.0.0/0")!;
  t.equal(all.start, 0n);
  t.equal(all.end, 0xffffffffn);

  const host = parseCidr("203.0.113.10/32")!;
  t.equal(host.start, host.end);
  t.equal(host.start, v4(203, 0, 113, 10));
  t.equal(parseCidr("255.255.255.255/32")!.end, 0xffffffffn);
});

t.test("host bits are cleared, as the apiserver's sloppy parser does", async (t) => {
  const c = parseCidr("10.8.3.7/14")!;
  t.equal(c.start, v4(10, 8, 0, 0));
  t.equal(c.end, v4(10, 11, 255, 255));
  t.equal(c.text, "10.8.3.7/14", "the text as written is kept for messages");
  const six = parseCidr("fd00:8::1234/56")!;
  t.equal(formatCidr(six), "fd00:8::/56");
});

t.test("leading zeros in IPv4 octets are tolerated and read as decimal (ParseCIDRSloppy)", async (t) => {
  const c = parseCidr("010.008.000.000/14")!;
  t.ok(c);
  t.equal(c.start, v4(10, 8, 0, 0), "010 is ten, not octal eight");
  t.equal(parseIP("192.168.001.010")!.value, v4(192, 168, 1, 10));
  t.equal(parseIP("000.000.000.000")!.value, 0n);
  t.equal(parseCidr("010.0.0.0/08")!.prefix, 8, "a zero-padded prefix length is decimal too");
  t.equal(parseCidr("10.0.0.0001/0032")!.start, v4(10, 0, 0, 1), "any number of leading zeros, prefix length included");
  t.equal(parseCidr("00fd::0000001/128")!.start, (0xfdn << 112n) + 1n, "IPv6 groups with more than four digits of leading zeros");
});

t.test("IPv6 CIDRs", async (t) => {
  const c = parseCidr("fd00:100::/56")!;
  t.equal(c.family, 6);
  t.equal(c.prefix, 56);
  t.equal(c.start, 0xfd000100n << 96n);
  t.equal(c.end, (0xfd000100n << 96n) + (1n << 72n) - 1n);

  t.equal(parseCidr("::/0")!.end, (1n << 128n) - 1n);
  t.equal(parseCidr("::1/128")!.start, 1n);
  t.equal(parseCidr("FD00:0100:0000::/56")!.start, c.start, "upper case and zero-padded groups");
  t.equal(parseCidr("1:2:3:4:5:6:7:8/128")!.start, 0x00010002000300040005000600070008n);
  t.equal(parseCidr("1:2:3:4:5:6:7::/128")!.start, 0x00010002000300040005000600070000n, ":: may stand for a single group");
  t.equal(parseCidr("::2:3:4:5:6:7:8/128")!.start, 0x00000002000300040005000600070008n);
});

t.test("an IPv4-mapped IPv6 block is the IPv4 block it maps, as Go's net package reads it", async (t) => {
  const mapped = parseCidr("::ffff:10.0.0.0/104")!;
  t.ok(mapped);
  t.equal(mapped.family, 4, "the apiserver compares it with IPv4 blocks (and advises writing 10.0.0.0/8)");
  t.equal(mapped.prefix, 8);
  t.equal(mapped.start, 0x0a000000n);
  t.equal(mapped.end, 0x0affffffn);
  t.equal(mapped.mapped, true);
  t.equal(parseCidr("::ffff:0:0/80")!.family, 6, "a block wider than ::ffff:0:0/96 stays IPv6");
  t.equal(parseCidr("::/0")!.family, 6);
  t.equal(parseIP("::ffff:1.2.3.4")!.value, 0xffff01020304n);
  t.equal(parseIP("::1.2.3.4")!.value, 0x01020304n);
  t.equal(parseIP("64:ff9b::192.0.2.33")!.value, (0x0064ff9bn << 96n) + 0xc0000221n);
  t.equal(parseIP("0:0:0:0:0:ffff:1.2.3.4")!.value, 0xffff01020304n, "full form with a dotted tail");
  t.equal(parseIP("1:2:3:4:5:6:7:1.2.3.4"), undefined, "nine groups");
  t.equal(parseIP("::ffff:1.2.3"), undefined, "short dotted tail");
  t.equal(parseIP("::ffff:1.2.3.256"), undefined, "bad octet in the tail");
  t.equal(parseIP("::1.2.3.4:5"), undefined, "dotted part not at the end");
});

t.test("invalid CIDRs are rejected", async (t) => {
  const bad = [
    "10.0.0.0", // no prefix
    "fd00::", // no prefix
    "10.0.0.0/", // empty prefix
    "/8",
    "10.0.0.0/33",
    "10.0.0.0/-1",
    "10.0.0.0/1000",
    "10.0.0.0/8/8",
    "10.0.0.0/ 8",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "10.0.0.0/0x8",
    "::/129",
    "fd00::/200",
    "256.0.0.0/8",
    "10.0.0.300/32",
    "10.0.0/24",
    "10.0.0.0.0/24",
    "10..0.0/24",
    "10.0.0.-1/32",
    "10.0.0.a/32",
    ":::/0",
    ":::1/128",
    "1::2::3/128",
    "1:2:3:4:5:6:7:8:9/128",
    "1:2:3:4:5:6:7:8::/128", // :: must stand for at least one group
    "1:2:3:4:5:6:7/128", // seven groups without ::
    ":1:2:3:4:5:6:7/128",
    "1:2:3:4:5:6:7:/128",
    "12345::/16",
    "fg00::/16",
    "fe80::1%eth0/64", // zones are not allowed
    "",
    "not-a-cidr",
  ];
  for (const text of bad) t.equal(parseCidr(text), undefined, `rejects ${JSON.stringify(text)}`);
  t.equal(parseCidr(42 as unknown as string), undefined, "a non-string is rejected, not thrown on");
  t.equal(parseCidr(undefined as unknown as string), undefined);
});

t.test("cidrReason explains the problem", async (t) => {
  t.equal(cidrReason("10.0.0.1"), '"10.0.0.1" has no prefix length (write it as 10.0.0.1/32 for a single address)', "IPv4: /32 only");
  t.equal(cidrReason("fd00::1"), '"fd00::1" has no prefix length (write it as fd00::1/128 for a single address)', "IPv6: /128 only");
  t.equal(cidrReason("x"), '"x" is not a valid IPv4 or IPv6 CIDR', "not an address: no prefix advice");
  t.match(cidrReason("10.0.0.0/33"), /"10\.0\.0\.0\/33" is not a valid IPv4 or IPv6 CIDR/);
  t.match(cidrReason(7), /must be a string/);
});

t.test("formatting follows RFC 5952 for IPv6", async (t) => {
  t.equal(formatIP(4, v4(10, 8, 0, 0)), "10.8.0.0");
  t.equal(formatIP(6, 0n), "::");
  t.equal(formatIP(6, 1n), "::1");
  t.equal(formatIP(6, 0xfd000008n << 96n), "fd00:8::");
  t.equal(formatIP(6, 0x00010000000200030004000500060007n), "1:0:2:3:4:5:6:7", "a single zero group is not compressed");
  t.equal(formatIP(6, 0x00010000000000020000000000030004n), "1::2:0:0:3:4", "the first of two equal runs is compressed");
  t.equal(formatIP(6, 0x00010000000200000000000000000000n), "1:0:2::", "the longest run wins");
  t.equal(formatCidr(parseCidr("0.0.0.0/0")!), "0.0.0.0/0");
  t.equal(formatCidr(parseCidr("fd00:0100:0000:0000::/56")!), "fd00:100::/56");
});

t.test("parse and format round-trip", async (t) => {
  for (const text of ["10.8.0.0/14", "203.0.113.10/32", "fd00:8::/56", "2001:db8::/32", "::/0", "::1/128", "fe80::/10", "1:2:3:4:5:6:7:8/128"]) {
    t.equal(formatCidr(parseCidr(text)!), text);
  }
});
