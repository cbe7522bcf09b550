// Names a Beep server certificate must cover: normalising, validating and comparing DNS names and
// IP addresses, and converting IP addresses to and from the raw bytes X.509 stores.
import * as net from 'node:net';
import * as os from 'node:os';

const IPV4_BYTES = 4; // RFC 5280 §4.2.1.6: an iPAddress SAN holds 4 octets for IPv4...
const IPV6_BYTES = 16; // ...and 16 octets for IPv6
const MAX_DNS_NAME_CHARS = 253; // RFC 1035: longest presentation-form domain name
const MDNS_SUFFIX = '.local'; // RFC 6762: the name phones resolve over multicast DNS on the LAN

// One DNS label: 1-63 chars, letters/digits/hyphen/underscore, no hyphen at either end (underscore
// tolerated because some hosts are named that way and the SAN is an IA5String that allows it).
const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

// Canonical names the certificate should cover (lowercase DNS names, inet_ntop-formatted addresses).
export interface WantedNames {
  hostnames: string[];
  addresses: string[];
}

// Lowercases and validates a DNS name so 'Laptop.LOCAL.' and 'laptop.local' compare equal.
export function normalizeHostname(name: string): string {
  const host = name.trim().toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > MAX_DNS_NAME_CHARS || !host.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new Error(`Invalid hostname for the server certificate: ${JSON.stringify(name)}`);
  }
  return host;
}

// Canonicalises an IP address through inet_ntop so '2001:DB8:0::1' and '2001:db8::1' compare equal.
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  const family = net.isIP(trimmed);
  if (family === 0) {
    throw new Error(`Invalid IP address for the server certificate: ${JSON.stringify(address)}`);
  }
  return new net.SocketAddress({ address: trimmed, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
}

// Encodes a canonical address as the raw octets of an iPAddress SAN (forge's own parser is too lax).
export function addressToBytes(address: string): Buffer {
  if (net.isIPv4(address)) {
    return Buffer.from(address.split('.').map(Number));
  }
  let text = address;
  const embeddedIpv4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text); // e.g. ::ffff:192.0.2.1
  if (embeddedIpv4) {
    const v4 = addressToBytes(embeddedIpv4[1] as string);
    text = `${text.slice(0, embeddedIpv4.index)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros: string[] = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const bytes = Buffer.alloc(IPV6_BYTES);
  [...headGroups, ...zeros, ...tailGroups].forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

// Decodes the raw octets of an iPAddress SAN to canonical text; null for a malformed length.
export function addressFromBytes(bytes: Buffer): string | null {
  if (bytes.length === IPV4_BYTES) {
    return Array.from(bytes).join('.');
  }
  if (bytes.length === IPV6_BYTES) {
    const groups: string[] = [];
    for (let i = 0; i < IPV6_BYTES; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return normalizeAddress(groups.join(':'));
  }
  return null;
}

// Is this an address only reachable with a zone id (fe80::/10), useless in a certificate?
function isLinkLocalIpv6(address: string, scopeid: number | undefined): boolean {
  return (scopeid !== undefined && scopeid !== 0) || /^fe[89ab][0-9a-f]:/i.test(address);
}

// The names a phone on the LAN may use to reach this machine, so the certificate matches by default.
export function defaultNames(): WantedNames {
  const hostnames = ['localhost'];
  try {
    const host = normalizeHostname(os.hostname());
    const shortName = host.split('.')[0] as string; // mDNS advertises the first label: box.example.com → box.local
    hostnames.push(host, `${shortName}${MDNS_SUFFIX}`);
  } catch {
    // An os.hostname() that is not a valid DNS name cannot go in a SAN; localhost and IPs still work.
  }
  const addresses = ['127.0.0.1', '::1'];
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal || net.isIP(entry.address) === 0) continue;
      if (net.isIPv6(entry.address) && isLinkLocalIpv6(entry.address, entry.scopeid)) continue;
      addresses.push(normalizeAddress(entry.address));
    }
  }
  return { hostnames: unique(hostnames), addresses: unique(addresses) };
}

// Defaults plus what the caller asked for, normalised and de-duplicated (caller input is validated).
export function wantedNames(hostnames: readonly string[] = [], addresses: readonly string[] = []): WantedNames {
  const defaults = defaultNames();
  return {
    hostnames: unique([...defaults.hostnames, ...hostnames.map(normalizeHostname)]),
    addresses: unique([...defaults.addresses, ...addresses.map(normalizeAddress)]),
  };
}

// 'DNS:name' / 'IP:address' labels, the OpenSSL-style form reported in TlsMaterial.subjectAltNames.
export function sanLabels(names: WantedNames): string[] {
  return [...names.hostnames.map((h) => `DNS:${h}`), ...names.addresses.map((a) => `IP:${a}`)];
}

function unique(values: string[]): string[] {
  return Array.from(new Set(values));
}
