import net from 'node:net';

// Which budget a client address spends. IPv4 addresses are their own key; an IPv6 host holds
// a whole /64 (SLAAC and privacy addresses give every device billions of them), so IPv6 is
// keyed by its /64. An IPv4-mapped IPv6 address (::ffff:192.0.2.1, what a dual-stack socket
// reports for an IPv4 peer) is its IPv4 address, before any grouping.

/** The 8 hextets of an IPv6 address (compressed or with a dotted IPv4 tail), or undefined. */
function hextets(address: string): number[] | undefined {
  if (!net.isIPv6(address)) return undefined;
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const zeros = tail === undefined ? [] : Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/**
 * The key a failure budget counts an address under.
 *
 *   addressKey('192.0.2.7')              // '192.0.2.7'
 *   addressKey('::ffff:192.0.2.7')       // '192.0.2.7'
 *   addressKey('2001:db8:1:2:aaaa::1')   // '2001:db8:1:2::/64'
 */
export function addressKey(address: string): string {
  const bare = address.trim().toLowerCase().replace(/%.*$/, ''); // a zone (fe80::1%eth0) names a link, not a host
  const h = hextets(bare);
  if (!h) return bare;
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) {
    return `${h[6] >> 8}.${h[6] & 255}.${h[7] >> 8}.${h[7] & 255}`;
  }
  return `${h.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}
