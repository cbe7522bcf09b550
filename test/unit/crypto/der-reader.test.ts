import { X509Certificate } from 'node:crypto';
import * as forge from 'node-forge';
import { createCertificateAuthority, issueServerCertificate } from '../../../app/crypto/certificate-authority';
import { childrenOf, contentOf, oidText, readDer, timeOf, type DerNode } from '../../../app/crypto/der-reader';

// The dependency-free DER reader (what a start uses to read certificates) sees exactly what
// node-forge's strict decoder sees, and refuses what DER forbids.

type ForgeNode = forge.asn1.Asn1;

/** Walks both trees together: same class, tag, shape and bytes at every node. */
function same(mine: DerNode, theirs: ForgeNode): void {
  expect({ tagClass: mine.tagClass << 6, tag: mine.tag, constructed: mine.constructed }).toEqual({
    tagClass: theirs.tagClass,
    tag: theirs.type,
    constructed: Array.isArray(theirs.value),
  });
  if (Array.isArray(theirs.value)) {
    const kids = childrenOf(mine, 'node');
    expect(kids).toHaveLength(theirs.value.length);
    kids.forEach((k, i) => same(k, (theirs.value as ForgeNode[])[i]!));
  } else {
    expect(contentOf(mine, 'node').toString('binary')).toBe(theirs.value);
  }
}

test('reads a CA and a server certificate node for node as forge does; OIDs and times too', async () => {
  const now = new Date('2031-05-06T07:08:09Z');
  const ca = await createCertificateAuthority('host', now);
  const server = await issueServerCertificate(ca, { hostnames: ['localhost', 'host.local'], addresses: ['127.0.0.1', '::1'] }, now);
  for (const pem of [ca.certPem, server.certPem]) {
    const der = new X509Certificate(pem).raw;
    const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
    same(readDer(der), forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')), options as unknown as boolean));
  }
  const tbs = childrenOf(childrenOf(readDer(new X509Certificate(server.certPem).raw), 'Certificate')[0], 'TBSCertificate');
  expect(oidText(childrenOf(tbs[2], 'AlgorithmIdentifier')[0])).toBe('1.2.840.10045.4.3.2'); // ecdsa-with-SHA256
  expect(timeOf(childrenOf(tbs[4], 'Validity')[0]).getTime()).toBeLessThanOrEqual(now.getTime());
});

test('refuses what DER forbids: trailing bytes, indefinite or non-minimal lengths, truncation, high tags', () => {
  expect(readDer(Buffer.from('300302010a', 'hex')).constructed).toBe(true);
  for (const hex of ['300302010a00', '3080020100' + '0000', '30810302010a', '3005020100', '1f0100', '3003020101ff']) {
    expect(() => readDer(Buffer.from(hex, 'hex'))).toThrow(/malformed certificate/);
  }
  expect(timeOf(readDer(Buffer.from('170d3439313233313233353935395a', 'hex'))).toISOString()).toBe('2049-12-31T23:59:59.000Z');
  expect(timeOf(readDer(Buffer.from('170d3530303130313030303030305a', 'hex'))).toISOString()).toBe('1950-01-01T00:00:00.000Z');
  expect(timeOf(readDer(Buffer.from('180f32303530303130313030303030305a', 'hex'))).toISOString()).toBe('2050-01-01T00:00:00.000Z');
});
