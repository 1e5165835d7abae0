/** IPv4 and IPv6 addresses and CIDRs as exact integer ranges. */

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** First address of the block (host bits cleared). */
  start: bigint;
  /** Last address of the block. */
  end: bigint;
  prefix: number;
  /** The text as written, for messages. */
  text: string;
  /** Written as an IPv4-mapped IPv6 block (::ffff:a.b.c.d/n): family and prefix are the IPv4 ones. */
  mapped?: boolean;
}

export const familyBits = (family: Family): number => (family === 4 ? 32 : 128);

/**
 * Go's digit and hex readers (k8s.io/utils/net, forked from Go 1.16's net): any number of leading
 * zeros, a value capped while reading. Return the value and the characters read, or undefined.
 */
const BIG = 0xffffff;
function readDigits(text: string, radix: 10 | 16): [number, number] | undefined {
  let n = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const d = radix === 10 ? "0123456789".indexOf(text[i]!) : "0123456789abcdef".indexOf(text[i]!.toLowerCase());
    if (d < 0) break;
    n = n * radix + d;
    if (n >= BIG) return undefined;
  }
  return i === 0 ? undefined : [n, i];
}

/**
 * An IPv4 dotted quad as the apiserver's ParseIPSloppy reads it: each octet decimal, leading zeros
 * tolerated (legacy objects carry them), so "010.0.0.0001" is 10.0.0.1. Returns the value and the rest.
 */
function readIPv4(text: string): { value: bigint; rest: string } | undefined {
  let s = text;
  let value = 0n;
  for (let i = 0; i < 4; i++) {
    if (i > 0) {
      if (s[0] !== ".") return undefined;
      s = s.slice(1);
    }
    const read = readDigits(s, 10);
    if (!read || read[0] > 255) return undefined;
    value = (value << 8n) | BigInt(read[0]);
    s = s.slice(read[1]);
  }
  return { value, rest: s };
}

function parseIPv4(text: string): bigint | undefined {
  const read = readIPv4(text);
  return read && read.rest === "" ? read.value : undefined;
}

/** IPv6 as Go's parseIPv6 reads it: groups of any length up to 0xffff, one "::", a dotted IPv4 tail. */
function parseIPv6(text: string): bigint | undefined {
  const bytes: number[] = new Array<number>(16).fill(0);
  let s = text;
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === "") return 0n;
  }
  let i = 0;
  while (i < 16) {
    const read = readDigits(s, 16);
    if (!read || read[0] > 0xffff) return undefined;
    const [n, c] = read;
    if (s[c] === ".") {
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return undefined;
      const v4 = parseIPv4(s);
      if (v4 === undefined) return undefined;
      for (let k = 0; k < 4; k++) bytes[i + k] = Number((v4 >> BigInt(24 - 8 * k)) & 0xffn);
      s = "";
      i += 4;
      break;
    }
    bytes[i] = n >> 8;
    bytes[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(c);
    if (s === "") break;
    if (s[0] !== ":" || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s === "") break;
    }
  }
  if (s !== "") return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) bytes[j + n] = bytes[j]!;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) bytes[j] = 0;
  } else if (ellipsis >= 0) {
    return undefined; // "::" must stand for at least one group
  }
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

export function parseIP(text: string): { family: Family; value: bigint } | undefined {
  if (typeof text !== "string") return undefined;
  for (const ch of text) {
    if (ch === ".") {
      const value = parseIPv4(text);
      return value === undefined ? undefined : { family: 4, value };
    }
    if (ch === ":") {
      const value = parseIPv6(text);
      return value === undefined ? undefined : { family: 6, value };
    }
  }
  return undefined;
}

/**
 * Parses "addr/prefix" as the apiserver does (ParseCIDRSloppy): leading zeros anywhere, prefix
 * length included ("/0008"), host bits cleared. A block whose network is an IPv4-mapped IPv6
 * address (::ffff:10.0.0.0/104) is the IPv4 block it maps, as Go's net package treats it (and
 * prints it: 10.0.0.0/8); `mapped` records that it was written that way.
 */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== "string") return undefined;
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const v4 = parseIPv4(addr);
  const ip = v4 !== undefined ? { family: 4 as Family, value: v4 } : ((v6) => (v6 === undefined ? undefined : { family: 6 as Family, value: v6 }))(parseIPv6(addr));
  const prefixText = text.slice(slash + 1);
  const read = readDigits(prefixText, 10);
  if (!ip || !read || read[1] !== prefixText.length) return undefined;
  const prefix = read[0];
  const bits = familyBits(ip.family);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const start = (ip.value >> hostBits) << hostBits;
  if (ip.family === 6 && start >> 32n === 0xffffn && prefix >= 96) {
    const v4Host = BigInt(128 - prefix);
    const v4Start = start & 0xffffffffn;
    return { family: 4, start: v4Start, end: v4Start + (1n << v4Host) - 1n, prefix: prefix - 96, text, mapped: true };
  }
  return { family: ip.family, start, end: start + (1n << hostBits) - 1n, prefix, text };
}

/** The prefix length as written: IPv4-mapped blocks count in IPv6 bits, as the apiserver compares them. */
export const writtenPrefix = (c: Cidr): number => (c.mapped ? c.prefix + 96 : c.prefix);

export function cidrReason(text: unknown): string {
  if (typeof text !== "string") return "must be a string in CIDR notation (for example 10.0.0.0/16 or fd00::/64)";
  const ip = text.includes("/") ? undefined : parseIP(text);
  if (ip) return `"${text}" has no prefix length (write it as ${text}/${familyBits(ip.family)} for a single address)`;
  return `"${text}" is not a valid IPv4 or IPv6 CIDR`;
}

export function formatIP(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run of two or more zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

export function formatCidr(c: Pick<Cidr, "family" | "start" | "prefix">): string {
  return `${formatIP(c.family, c.start)}/${c.prefix}`;
}
