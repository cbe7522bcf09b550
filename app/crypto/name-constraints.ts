// RFC 5280 name constraints for Beep's CA: the subtrees a new CA may vouch for, their DER
// encoding, reading them back from any CA, and which wanted names a CA can cover.
//
// A CA that phones install as a root must not be able to vouch for a bank: with these, a
// certificate for any public name signed with a stolen ca.key fails verification.
//
// Single-label names (`laptop`) cannot be expressed: a dNSName subtree permits a name and every
// name under it, there is no "exactly one label" form (minimum/maximum must stay 0/absent), and
// the empty name permits everything. Permitting the machine's own short name would also permit
// everything under it, which is a public TLD for names such as `bank` or `box`. So the safest
// expressible set leaves them out: a phone reaches the PC as `<host>.local`, `<host>.lan`,
// `<host>.home.arpa` or by its LAN address.
import { addressToBytes, type WantedNames } from './subject-alt-names';
import { contextConstructed, encode, implicitPrimitive, sequence } from './der';
import { childrenOf, contentOf, isContextTag, readDer, type DerNode } from './der-reader';

/** id-ce-nameConstraints. */
export const NAME_CONSTRAINTS_OID = '2.5.29.30';

const DNS_NAME_TAG = 2; // GeneralName dNSName [2] IA5String
const IP_ADDRESS_TAG = 7; // GeneralName iPAddress [7] OCTET STRING (address then mask)
const PERMITTED_TAG = 0; // NameConstraints permittedSubtrees [0]
const EXCLUDED_TAG = 1; // NameConstraints excludedSubtrees [1]

/** DNS subtrees of a new Beep CA: loopback, mDNS (RFC 6762), RFC 8375's home.arpa, and `.lan`. */
export const PERMITTED_DNS = ['localhost', 'local', 'home.arpa', 'lan'] as const;

/**
 * IP subtrees of a new Beep CA: loopback, RFC 1918, shared address space (RFC 6598, where
 * Tailscale-style overlays live), link-local, and IPv6 loopback, unique-local and link-local.
 */
export const PERMITTED_IP = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
] as const;

/** An iPAddress subtree: network and mask octets of the same length (4 or 16). */
export interface IpRange {
  network: Buffer;
  mask: Buffer;
}

/** The DNS and IP parts of one list of subtrees; other name forms are counted only. */
export interface Subtrees {
  dns: string[];
  ip: IpRange[];
  other: number;
}

/** A CA's name constraints as read from its certificate. */
export interface NameConstraints {
  permitted: Subtrees;
  excluded: Subtrees;
}

/** Parses 'a.b.c.d/len' or 'v6::/len' into network and mask octets. */
export function parseCidr(cidr: string): IpRange {
  const [address, bits] = cidr.split('/') as [string, string];
  const network = addressToBytes(address);
  const prefix = Number(bits);
  const mask = Buffer.alloc(network.length);
  for (let i = 0; i < mask.length; i++) mask[i] = 0xff & ~(0xff >> Math.max(0, Math.min(8, prefix - i * 8)));
  return { network, mask };
}

/** The DER value (extnValue contents) of the nameConstraints extension of a new Beep CA. */
export function beepNameConstraintsDer(): Buffer {
  const subtree = (tag: number, bytes: Buffer) => sequence([implicitPrimitive(tag, bytes)]);
  const dns = PERMITTED_DNS.map((name) => subtree(DNS_NAME_TAG, Buffer.from(name, 'ascii')));
  const ip = PERMITTED_IP.map(parseCidr).map((r) => subtree(IP_ADDRESS_TAG, Buffer.concat([r.network, r.mask])));
  return encode(sequence([contextConstructed(PERMITTED_TAG, [...dns, ...ip])]));
}

function readSubtrees(node: DerNode | undefined): Subtrees {
  const out: Subtrees = { dns: [], ip: [], other: 0 };
  if (!node) return out;
  for (const subtree of childrenOf(node, 'GeneralSubtrees')) {
    const base = childrenOf(subtree, 'GeneralSubtree')[0];
    if (base && isContextTag(base, DNS_NAME_TAG)) {
      out.dns.push(contentOf(base, 'dNSName').toString('ascii').toLowerCase());
    } else if (base && isContextTag(base, IP_ADDRESS_TAG)) {
      const bytes = contentOf(base, 'iPAddress');
      if (bytes.length !== 8 && bytes.length !== 32) throw new Error('malformed certificate: iPAddress subtree length');
      out.ip.push({ network: bytes.subarray(0, bytes.length / 2), mask: bytes.subarray(bytes.length / 2) });
    } else {
      out.other += 1;
    }
  }
  return out;
}

/** Reads a nameConstraints extension value (DER). */
export function parseNameConstraints(der: Buffer): NameConstraints {
  const parts = childrenOf(readDer(der), 'NameConstraints');
  return {
    permitted: readSubtrees(parts.find((p) => isContextTag(p, PERMITTED_TAG))),
    excluded: readSubtrees(parts.find((p) => isContextTag(p, EXCLUDED_TAG))),
  };
}

/** RFC 5280 §4.2.1.10: adding labels on the left stays inside; a leading dot (OpenSSL) means below only. */
function dnsWithin(name: string, base: string): boolean {
  if (base === '') return true;
  if (base.startsWith('.')) return name.endsWith(base);
  return name === base || name.endsWith(`.${base}`);
}

function ipWithin(address: Buffer, range: IpRange): boolean {
  return address.length === range.network.length && address.every((b, i) => (b & range.mask[i]!) === (range.network[i]! & range.mask[i]!));
}

/** May a certificate under these constraints carry this DNS name? */
export function permitsHostname(nc: NameConstraints, hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (nc.excluded.dns.some((base) => dnsWithin(name, base))) return false;
  return nc.permitted.dns.length === 0 || nc.permitted.dns.some((base) => dnsWithin(name, base));
}

/** May a certificate under these constraints carry this (canonical) IP address? */
export function permitsAddress(nc: NameConstraints, address: string): boolean {
  const bytes = addressToBytes(address);
  if (nc.excluded.ip.some((r) => ipWithin(bytes, r))) return false;
  return nc.permitted.ip.length === 0 || nc.permitted.ip.some((r) => ipWithin(bytes, r));
}

/** The wanted names a CA with these constraints (null: none) may vouch for, and those it may not. */
export function splitByConstraints(nc: NameConstraints | null, wanted: WantedNames): { kept: WantedNames; leftOut: string[] } {
  if (nc === null) return { kept: wanted, leftOut: [] };
  const kept: WantedNames = { hostnames: [], addresses: [] };
  const leftOut: string[] = [];
  for (const h of wanted.hostnames) {
    if (permitsHostname(nc, h)) kept.hostnames.push(h);
    else leftOut.push(`DNS:${h}`);
  }
  for (const a of wanted.addresses) {
    if (permitsAddress(nc, a)) kept.addresses.push(a);
    else leftOut.push(`IP:${a}`);
  }
  return { kept, leftOut };
}
