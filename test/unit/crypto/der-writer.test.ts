import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import * as forge from 'node-forge';
import { createCertificateAuthority, issueServerCertificate } from '../../../app/crypto/certificate-authority';
import * as der from '../../../app/crypto/der';

// The dependency-free DER writer (what issuing a certificate uses, so the daemon never loads
// node-forge) writes byte for byte what node-forge's ASN.1 codec writes for every shape Beep
// builds; forge is only the oracle here. Certificates built with it are read and verified by
// OpenSSL (Node's X509Certificate).

const f = forge.asn1;
const U = f.Class.UNIVERSAL;
const forgeDer = (node: forge.asn1.Asn1): Buffer => Buffer.from(f.toDer(node).getBytes(), 'binary');
const bin = (b: Buffer) => b.toString('binary');
const bytes = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a));

test('every primitive shape is byte-identical to forge (lengths past 127 and 255 included)', () => {
  fc.assert(
    // The implicit tags Beep writes: keyIdentifier [0], dNSName [2] (ASCII), iPAddress [7]; forge
    // special-cases some tag numbers whatever their class, which DER does not.
    fc.property(bytes, fc.constantFrom(0, 7), fc.stringMatching(/^[a-z0-9.-]{0,200}$/), (b, tag, host) => {
      expect(der.octetString(b)).toEqual(forgeDer(f.create(U, f.Type.OCTETSTRING, false, bin(b))));
      expect(der.bitString(b)).toEqual(forgeDer(f.create(U, f.Type.BITSTRING, false, '\x00' + bin(b))));
      expect(der.implicitPrimitive(tag, b)).toEqual(forgeDer(f.create(f.Class.CONTEXT_SPECIFIC, tag, false, bin(b))));
      expect(der.implicitPrimitive(2, Buffer.from(host, 'ascii'))).toEqual(forgeDer(f.create(f.Class.CONTEXT_SPECIFIC, 2, false, host)));
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n) => {
      expect(der.smallInteger(n)).toEqual(forgeDer(f.create(U, f.Type.INTEGER, false, f.integerToDer(n).getBytes())));
    }),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      expect(der.utf8(s)).toEqual(forgeDer(f.create(U, f.Type.UTF8, false, forge.util.encodeUtf8(s))));
    }),
  );
  expect(der.boolean(true)).toEqual(forgeDer(f.create(U, f.Type.BOOLEAN, false, '\xff')));
  expect(der.boolean(false)).toEqual(forgeDer(f.create(U, f.Type.BOOLEAN, false, '\x00')));
  expect(der.nullValue()).toEqual(forgeDer(f.create(U, f.Type.NULL, false, '')));
});

test('OIDs and validity times are byte-identical to forge', () => {
  const arc = fc.integer({ min: 0, max: 2 ** 31 - 1 });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(arc, { maxLength: 8 }), (a, b, rest) => {
      const dotted = [a, b, ...rest].join('.');
      expect(der.oid(dotted)).toEqual(forgeDer(f.create(U, f.Type.OID, false, f.oidToDer(dotted).getBytes())));
    }),
  );
  const instant = fc.integer({ min: Date.parse('1950-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59Z') });
  fc.assert(
    fc.property(instant, (ms) => {
      const date = new Date(Math.floor(ms / 1000) * 1000);
      const theirs =
        date.getUTCFullYear() <= 2049
          ? f.create(U, f.Type.UTCTIME, false, f.dateToUtcTime(date))
          : f.create(U, f.Type.GENERALIZEDTIME, false, f.dateToGeneralizedTime(date));
      expect(der.time(date)).toEqual(forgeDer(theirs));
    }),
  );
});

test('constructed shapes nest as forge nests them', () => {
  fc.assert(
    fc.property(fc.array(bytes, { maxLength: 6 }), fc.integer({ min: 0, max: 30 }), (parts, tag) => {
      const mine = parts.map((p) => der.octetString(p));
      const theirs = () => parts.map((p) => f.create(U, f.Type.OCTETSTRING, false, bin(p)));
      expect(der.sequence(mine)).toEqual(forgeDer(f.create(U, f.Type.SEQUENCE, true, theirs())));
      expect(der.set(mine)).toEqual(forgeDer(f.create(U, f.Type.SET, true, theirs())));
      expect(der.contextConstructed(tag, mine)).toEqual(forgeDer(f.create(f.Class.CONTEXT_SPECIFIC, tag, true, theirs())));
      expect(der.decode(der.sequence(mine))).toEqual(der.sequence(mine));
      expect(der.children(der.sequence(mine), 'seq')).toEqual(mine);
    }),
  );
});

test('a CA and a server certificate built with it parse and verify in OpenSSL', async () => {
  const ca = await createCertificateAuthority('host', new Date());
  const server = await issueServerCertificate(ca, { hostnames: ['localhost'], addresses: ['127.0.0.1', '::1'] }, new Date());
  const caCert = new X509Certificate(ca.certPem);
  const leaf = new X509Certificate(server.certPem);
  expect(caCert.verify(caCert.publicKey)).toBe(true);
  expect(leaf.verify(caCert.publicKey)).toBe(true);
  expect(leaf.checkIssued(caCert)).toBe(true);
  expect(leaf.subjectAltName).toContain('DNS:localhost');
  expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
});

test('a malformed input is refused, not embedded', () => {
  expect(() => der.decode(Buffer.from([0x30, 0x05, 0x01]))).toThrow(/malformed/);
  expect(() => der.contents(der.sequence([]), 'x')).toThrow(/not primitive/);
});
