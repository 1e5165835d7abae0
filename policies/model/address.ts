import { AddressSet } from "../net/address-set.js";
import { parseCidr, type Cidr } from "../net/cidr.js";
import type { AddressMatch } from "./policy.js";

/**
 * A validated cidr and its exceptions as the set of addresses it may match. An IPv4-mapped block
 * (::ffff:10.100.0.0/112) parses as the IPv4 block Go-based CNIs read it as; read as the IPv6 block it is written
 * as, it names only IPv4-mapped addresses, which no IPv6 packet carries.
 */
export function addressMatch(path: string, noun: string, text: string, except: readonly string[], exceptPath: string): AddressMatch {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`${path} was not validated`);
  const excluded = except.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  return { path, noun, cidr, except, exceptPath, range: AddressSet.of([cidr]).subtract(AddressSet.of(excluded)) };
}

/** Cilium and Calico accept a bare address for a single host. */
export const hostCidr = (text: string): string => (text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`);
