import fc from 'fast-check';
import { canonicalIpv6, parseProxyHeader, proxyPrefix, PROXY_V1_MAX_BYTES, PROXY_V2_MAX_LENGTH, type ProxyParse } from '../../../app/http/proxy-header';
import { V2_SIGNATURE, v1Header, v2Header } from '../../helpers/proxy-balancer';

// The PROXY header parser: whole headers in both versions, the bytes after them untouched,
// every prefix of a header asking for more, and anything else refused within its bounds.

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => canonicalIpv6(g.map((x) => x.toString(16)).join(':')));
const port = fc.integer({ min: 0, max: 65535 });
const rest = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));

/** Feeds `bytes` in the given chunk sizes, as a socket would, parsing what has arrived each time. */
function feed(bytes: Buffer, cuts: number[]): ProxyParse {
  let received = Buffer.alloc(0);
  let offset = 0;
  let last: ProxyParse = { kind: 'more' };
  for (const size of [...cuts, bytes.length]) {
    if (offset >= bytes.length) break;
    received = Buffer.concat([received, bytes.subarray(offset, offset + Math.max(1, size))]);
    offset += Math.max(1, size);
    last = parseProxyHeader(received);
    if (last.kind !== 'more') return last;
  }
  return last;
}

describe('PROXY header parser', () => {
  it('reads a v1 or v2 header naming an IPv4 or IPv6 client, in any chunking, and leaves the bytes after it', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), port, fc.constantFrom(1, 2), rest, fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), (address, p, version, after, cuts) => {
        const header = version === 1 ? v1Header(address, p) : v2Header(address, p);
        const result = feed(Buffer.concat([header, after]), cuts);
        expect(result).toEqual({ kind: 'header', version, length: header.length, source: { address, port: p } });
      }),
    );
  });

  it('skips v2 TLVs up to the length cap and refuses a longer header before reading it', () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: PROXY_V2_MAX_LENGTH - 12 }), (address, n) => {
        const header = v2Header(address, 1, Buffer.alloc(n, 0x20));
        expect(parseProxyHeader(header)).toMatchObject({ kind: 'header', length: header.length, source: { address } });
      }),
    );
    const long = v2Header('10.0.0.1', 1, Buffer.alloc(PROXY_V2_MAX_LENGTH, 0x20));
    expect(parseProxyHeader(long.subarray(0, 16))).toEqual({ kind: 'invalid', reason: 'v2 header longer than allowed' });
  });

  it('asks for more on every strict prefix of a header, never answering early', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), port, fc.constantFrom(1, 2), (address, p, version) => {
        const header = version === 1 ? v1Header(address, p) : v2Header(address, p);
        for (let n = 0; n < header.length; n++) expect(parseProxyHeader(header.subarray(0, n)).kind).toBe('more');
      }),
    );
  });

  it('uses the socket address for LOCAL, UNKNOWN and UNSPEC', () => {
    expect(parseProxyHeader(v2Header('local'))).toEqual({ kind: 'header', version: 2, length: 16, source: undefined });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\nGET'))).toEqual({ kind: 'header', version: 1, length: 15, source: undefined });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ::1 1 2\r\n'))).toMatchObject({ kind: 'header', source: undefined });
    const unspec = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x00, 0x00, 0x00])]);
    expect(parseProxyHeader(unspec)).toEqual({ kind: 'header', version: 2, length: 16, source: undefined });
  });

  it('never accepts bytes that are not a PROXY header, and never wants more than the bound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((a) => Buffer.from(a)), (bytes) => {
        const result = parseProxyHeader(bytes);
        if (result.kind === 'header') {
          // Only possible if the random bytes happen to be a valid header: re-check its shape.
          expect(bytes.subarray(0, 6).toString('latin1') === 'PROXY ' || bytes.subarray(0, 12).equals(V2_SIGNATURE)).toBe(true);
        }
        if (result.kind === 'more') expect(bytes.length).toBeLessThan(16 + PROXY_V2_MAX_LENGTH);
      }),
    );
  });

  it('refuses a v1 line past 107 bytes, and garbage, wrong families, bad addresses and ports', () => {
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 ' + '1'.repeat(PROXY_V1_MAX_BYTES)))).toEqual({ kind: 'invalid', reason: 'v1 line too long' });
    const bad = [
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n',
      'PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n',
      'PROXY TCP4 ::1 5.6.7.8 1 2\r\n',
      'PROXY TCP6 1.2.3.4 ::1 1 2\r\n',
      'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n',
      'PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
      'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\t\r\n',
      'PROXY \r\n',
      'GET / HTTP/1.1\r\n',
      '\x16\x03\x01\x02\x00',
    ];
    for (const text of bad) expect(parseProxyHeader(Buffer.from(text, 'latin1')).kind).toBe('invalid');
  });

  it('refuses v2 headers with a wrong version, command, family or truncated addresses', () => {
    const good = v2Header('10.1.2.3');
    const withByte = (i: number, v: number) => Buffer.from(good.map((b, j) => (j === i ? v : b)));
    expect(parseProxyHeader(withByte(12, 0x11)).kind).toBe('invalid'); // version 1
    expect(parseProxyHeader(withByte(12, 0x22)).kind).toBe('invalid'); // command 2
    expect(parseProxyHeader(withByte(13, 0x12)).kind).toBe('invalid'); // INET over DGRAM
    expect(parseProxyHeader(withByte(13, 0x41)).kind).toBe('invalid'); // family 4
    const short = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 0x04]), Buffer.alloc(4)]);
    expect(parseProxyHeader(short)).toEqual({ kind: 'invalid', reason: 'v2 INET addresses truncated' });
    const short6 = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x21, 0x00, 0x0c]), Buffer.alloc(12)]);
    expect(parseProxyHeader(short6)).toEqual({ kind: 'invalid', reason: 'v2 INET6 addresses truncated' });
  });

  it('spells IPv6 sources one way (compressed, lower case, IPv4-mapped as dotted)', () => {
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 2\r\n'))).toMatchObject({ source: { address: '2001:db8::1' } });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 ::ffff:10.0.0.7 ::1 1 2\r\n'))).toMatchObject({ source: { address: '::ffff:10.0.0.7' } });
    expect(parseProxyHeader(v2Header('::ffff:a00:7'))).toMatchObject({ source: { address: '::ffff:10.0.0.7' } });
  });

  it('tells a header’s first bytes from a TLS ClientHello or HTTP', () => {
    expect(proxyPrefix(Buffer.from('PRO'))).toBe('more');
    expect(proxyPrefix(Buffer.from('PROXY '))).toBe('yes');
    expect(proxyPrefix(V2_SIGNATURE.subarray(0, 5))).toBe('more');
    expect(proxyPrefix(V2_SIGNATURE)).toBe('yes');
    expect(proxyPrefix(Buffer.from([0x16, 0x03, 0x01]))).toBe('no');
    expect(proxyPrefix(Buffer.from('POST /'))).toBe('no');
  });
});
