// The CA's name constraints: encoding, reading back, and the same verdicts OpenSSL gives.
import fc from 'fast-check';
import {
  beepNameConstraintsDer,
  parseCidr,
  parseNameConstraints,
  permitsAddress,
  permitsHostname,
  splitByConstraints,
  PERMITTED_DNS,
  PERMITTED_IP,
} from '../../../app/crypto/name-constraints';

const beep = parseNameConstraints(beepNameConstraintsDer());

describe('Beep CA name constraints', () => {
  it('round-trips through DER: only permitted subtrees, DNS and IP', () => {
    expect(beep.permitted.dns).toEqual([...PERMITTED_DNS]);
    expect(beep.permitted.ip).toEqual(PERMITTED_IP.map(parseCidr));
    expect(beep.permitted.other).toBe(0);
    expect(beep.excluded).toEqual({ dns: [], ip: [], other: 0 });
  });

  it.each([
    ['localhost', true],
    ['local', true],
    ['laptop.local', true],
    ['a.b.lan', true],
    ['box.home.arpa', true],
    ['LAPTOP.LOCAL', true],
    ['laptop', false], // single-label names cannot be expressed (see name-constraints.ts)
    ['notlocal', false],
    ['evil-lan', false],
    ['lan.example.com', false],
    ['local.bank.example', false],
    ['www.bank.example', false],
    ['arpa', false],
  ])('DNS %s → %s', (name, ok) => {
    expect(permitsHostname(beep, name)).toBe(ok);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['172.15.255.255', false],
    ['192.168.1.10', true],
    ['192.169.0.1', false],
    ['100.64.0.1', true],
    ['100.127.255.255', true],
    ['100.128.0.1', false],
    ['169.254.10.20', true],
    ['8.8.8.8', false],
    ['198.51.100.23', false],
    ['::1', true],
    ['::2', false],
    ['fd12:3456::1', true],
    ['fc00::1', true],
    ['fe80::1', true],
    ['febf::1', true],
    ['fec0::1', false],
    ['2001:db8::1', false],
    ['::ffff:192.168.1.1', false], // an IPv4-mapped IPv6 SAN is 16 octets, matched against IPv6 ranges only
  ])('IP %s → %s', (address, ok) => {
    expect(permitsAddress(beep, address)).toBe(ok);
  });

  it('agrees with integer arithmetic on every IPv4 address (property)', () => {
    const ranges = PERMITTED_IP.filter((c) => !c.includes(':')).map((c) => {
      const [a, bits] = c.split('/') as [string, string];
      const base = a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
      const size = 2 ** (32 - Number(bits));
      return [base, base + size - 1] as const;
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const address = [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
        const inside = ranges.some(([lo, hi]) => n >= lo && n <= hi);
        return permitsAddress(beep, address) === inside;
      }),
      { numRuns: 5_000 },
    );
  });

  it('permits a DNS name exactly when it is a permitted name or ends in "." plus one (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), (labels) => {
        const name = labels.join('.');
        const expected = PERMITTED_DNS.some((base) => name === base || name.endsWith(`.${base}`));
        return permitsHostname(beep, name) === expected;
      }),
    );
  });

  it('splits wanted names into covered and left out; a CA without constraints covers all', () => {
    const wanted = { hostnames: ['localhost', 'laptop', 'laptop.local', 'laptop.example.com'], addresses: ['127.0.0.1', '192.168.1.2', '203.0.113.5', '2001:db8::5'] };
    expect(splitByConstraints(beep, wanted)).toEqual({
      kept: { hostnames: ['localhost', 'laptop.local'], addresses: ['127.0.0.1', '192.168.1.2'] },
      leftOut: ['DNS:laptop', 'DNS:laptop.example.com', 'IP:203.0.113.5', 'IP:2001:db8::5'],
    });
    expect(splitByConstraints(null, wanted)).toEqual({ kept: wanted, leftOut: [] });
  });

  it('honours excluded subtrees and a leading-dot base when reading another CA', () => {
    const other = { permitted: { dns: ['.corp'], ip: [], other: 0 }, excluded: { dns: ['secret.corp'], ip: [parseCidr('10.0.0.0/8')], other: 0 } };
    expect(permitsHostname(other, 'a.corp')).toBe(true);
    expect(permitsHostname(other, 'corp')).toBe(false); // a leading dot means "below", as OpenSSL reads it
    expect(permitsHostname(other, 'x.secret.corp')).toBe(false);
    expect(permitsAddress(other, '10.1.1.1')).toBe(false);
    expect(permitsAddress(other, '8.8.8.8')).toBe(true); // no permitted IP subtree: IPs unconstrained
  });
});
