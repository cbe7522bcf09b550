import net from 'node:net';

// The PROXY protocol header (HAProxy's spec, v1 text and v2 binary) a TCP load balancer puts in
// front of the bytes it forwards, naming the client it accepted the connection from. A strict,
// bounded parser over the bytes received so far: it asks for more until the header is whole,
// never reads past it, and refuses anything the spec does not allow.

/** The v2 signature: 12 bytes no other protocol starts with. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line the spec allows, CRLF included. */
export const PROXY_V1_MAX_BYTES = 107;
/** The v2 length beyond the 16 fixed bytes: room for IPv6 addresses and a few TLVs (which are skipped). */
export const PROXY_V2_MAX_LENGTH = 1024;

/** The client a header names; `undefined` source = use the socket's own peer (LOCAL, UNKNOWN, UNSPEC). */
export interface ProxySource {
  address: string;
  port: number;
}

/** What the bytes so far are: not whole yet, refused, or a whole header of `length` bytes. */
export type ProxyParse =
  | { kind: 'more' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'header'; version: 1 | 2; length: number; source: ProxySource | undefined };

/** Whether the first bytes of a connection start (or may still start) a PROXY header. */
export function proxyPrefix(buf: Buffer): 'yes' | 'no' | 'more' {
  for (const sig of [V1_PREFIX, PROXY_V2_SIGNATURE]) {
    const n = Math.min(buf.length, sig.length);
    if (buf.subarray(0, n).equals(sig.subarray(0, n))) return n === sig.length ? 'yes' : 'more';
  }
  return 'no';
}

/**
 * Parses the header at the start of `buf` (everything received so far).
 *
 *   parseProxyHeader(Buffer.from('PROXY TCP4 10.1.2.3 10.0.0.1 51000 2337\r\nrest'))
 *     → { kind: 'header', version: 1, length: 41, source: { address: '10.1.2.3', port: 51000 } }
 */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  const prefix = proxyPrefix(buf);
  if (prefix === 'no') return { kind: 'invalid', reason: 'no PROXY header' };
  if (prefix === 'more') return { kind: 'more' };
  return buf[0] === V1_PREFIX[0] ? parseV1(buf) : parseV2(buf);
}

const PORT = /^(0|[1-9]\d{0,4})$/;

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.subarray(0, PROXY_V1_MAX_BYTES).indexOf('\r\n', 0, 'latin1');
  if (end < 0) return buf.length >= PROXY_V1_MAX_BYTES ? { kind: 'invalid', reason: 'v1 line too long' } : { kind: 'more' };
  const line = buf.subarray(0, end);
  for (const c of line) if (c < 0x20 || c > 0x7e) return { kind: 'invalid', reason: 'v1 line not printable ASCII' };
  const parts = line.toString('latin1').split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length, source: undefined };
  if (parts.length !== 6) return { kind: 'invalid', reason: 'v1 line has the wrong number of fields' };
  const [, family, src, dst, sport, dport] = parts;
  const isIp = family === 'TCP4' ? net.isIPv4 : family === 'TCP6' ? net.isIPv6 : undefined;
  if (!isIp) return { kind: 'invalid', reason: 'v1 family is not TCP4, TCP6 or UNKNOWN' };
  if (!isIp(src) || !isIp(dst)) return { kind: 'invalid', reason: 'v1 address does not match its family' };
  if (!validPort(sport) || !validPort(dport)) return { kind: 'invalid', reason: 'v1 port out of range' };
  return { kind: 'header', version: 1, length, source: { address: family === 'TCP6' ? canonicalIpv6(src) : src, port: Number(sport) } };
}

function validPort(text: string): boolean {
  return PORT.test(text) && Number(text) <= 65535;
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return { kind: 'more' };
  const version = buf[12] >> 4;
  const command = buf[12] & 0x0f;
  if (version !== 2) return { kind: 'invalid', reason: 'v2 version nibble is not 2' };
  if (command > 1) return { kind: 'invalid', reason: 'v2 command is neither LOCAL nor PROXY' };
  const family = buf[13] >> 4;
  const transport = buf[13] & 0x0f;
  const bodyLength = buf.readUInt16BE(14);
  if (bodyLength > PROXY_V2_MAX_LENGTH) return { kind: 'invalid', reason: 'v2 header longer than allowed' };
  if (family > 3 || transport > 2) return { kind: 'invalid', reason: 'v2 family or transport unknown' };
  const length = 16 + bodyLength;
  if (buf.length < length) return { kind: 'more' };
  // LOCAL: the balancer's own connection (a health check); the socket's peer is the client.
  if (command === 0) return { kind: 'header', version: 2, length, source: undefined };
  if (transport === 2) return { kind: 'invalid', reason: 'v2 datagram on a stream' };
  if (family === 1) {
    if (transport !== 1) return { kind: 'invalid', reason: 'v2 INET without STREAM' };
    if (bodyLength < 12) return { kind: 'invalid', reason: 'v2 INET addresses truncated' };
    return { kind: 'header', version: 2, length, source: { address: [...buf.subarray(16, 20)].join('.'), port: buf.readUInt16BE(24) } };
  }
  if (family === 2) {
    if (transport !== 1) return { kind: 'invalid', reason: 'v2 INET6 without STREAM' };
    if (bodyLength < 36) return { kind: 'invalid', reason: 'v2 INET6 addresses truncated' };
    return { kind: 'header', version: 2, length, source: { address: ipv6Text(buf.subarray(16, 32)), port: buf.readUInt16BE(48) } };
  }
  // UNSPEC or UNIX with PROXY: nothing usable as an IP address; the spec says to use the socket's.
  return { kind: 'header', version: 2, length, source: undefined };
}

/** 16 bytes as IPv6 text. */
function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return canonicalIpv6(groups.join(':'));
}

/**
 * One spelling per IPv6 address, so one client is one budget key whatever the balancer wrote:
 * compressed and lower-case (RFC 5952, by the URL parser), an IPv4-mapped one as `::ffff:a.b.c.d`
 * (which normaliseAddress then turns into the IPv4 address).
 */
export function canonicalIpv6(text: string): string {
  const compressed = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (!mapped) return compressed;
  const hi = parseInt(mapped[1], 16);
  const lo = parseInt(mapped[2], 16);
  return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
