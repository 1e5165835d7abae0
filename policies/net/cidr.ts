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
}

export const familyBits = (family: Family): number => (family === 4 ? 32 : 128);

/**
 * Parses an IPv4 dotted quad the way Kubernetes' ParseIPSloppy does:
 * leading zeros are tolerated and read as decimal (legacy objects may carry them).
 */
function parseIPv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  if (text.includes("%")) return undefined; // zones are not valid in a CIDR
  let head = text;
  let tailGroups: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tailGroups = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groupsOf(halves[0] ?? "");
  const right = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (!left || !right) return undefined;
  const given = left.length + right.length + tailGroups.length;
  let groups: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    groups = [...left, ...new Array<number>(8 - given).fill(0), ...right, ...tailGroups];
  } else {
    if (given !== 8) return undefined;
    groups = [...left, ...tailGroups];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function parseIP(text: string): { family: Family; value: bigint } | undefined {
  if (text.includes(":")) {
    const value = parseIPv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIPv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/** Parses "addr/prefix"; host bits are cleared, as the apiserver's sloppy parser does. */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== "string") return undefined;
  const slash = text.indexOf("/");
  if (slash < 0 || text.trim() !== text) return undefined;
  const ip = parseIP(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = familyBits(ip.family);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const size = 1n << hostBits;
  const start = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, start, end: start + size - 1n, prefix, text };
}

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
