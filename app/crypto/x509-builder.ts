// Builds and signs X.509 v3 certificates for any key Node holds (P-256 and RSA), with the
// extensions Beep uses, nameConstraints included. Signing is Node's; the DER comes from der.ts.
import { createHash, sign, type KeyObject } from 'node:crypto';
import {
  bitString,
  boolean,
  children,
  contents,
  contextConstructed,
  decode,
  encode,
  implicitPrimitive,
  integerBytes,
  nullValue,
  octetString,
  oid,
  rawSequence,
  sequence,
  set,
  smallInteger,
  time,
  utf8,
  type Asn1,
} from './der';
import { addressToBytes, type WantedNames } from './subject-alt-names';

const X509_V3 = 2; // the version field counts from 0
const OID = {
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
const KEY_USAGE_BITS = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;

/** One extension: its OID, whether a verifier that does not know it must refuse, and its DER value. */
export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

/** Everything a certificate says, before it is signed. */
export interface CertificateSpec {
  serial: Buffer; // positive, minimally encoded
  issuer: Buffer; // DER Name (the issuer's subject, byte for byte)
  subject: Buffer; // DER Name
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Extension[];
}

/** A Name holding only a common name (UTF8String). */
export function commonNameDer(cn: string): Buffer {
  return encode(sequence([set([sequence([oid(OID.commonName), utf8(cn)])])]));
}

/** basicConstraints: a CA that may sign only leaves (pathLen 0), or a leaf. Always critical. */
export function basicConstraints(ca: boolean): Extension {
  const value = ca ? sequence([boolean(true), smallInteger(0)]) : sequence([]); // cA DEFAULT FALSE is omitted in DER
  return { oid: OID.basicConstraints, critical: true, value: encode(value) };
}

/** keyUsage as a DER named-bit BIT STRING (trailing zero bits dropped). Always critical. */
export function keyUsage(usages: KeyUsage[]): Extension {
  const bits = usages.map((u) => KEY_USAGE_BITS[u]);
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return { oid: OID.keyUsage, critical: true, value: encode(bitString(bytes, 7 - (highest & 7))) };
}

/** extKeyUsage: TLS server authentication only. */
export function serverAuthOnly(): Extension {
  return { oid: OID.extKeyUsage, critical: false, value: encode(sequence([oid(OID.serverAuth)])) };
}

/** subjectAltName: dNSName [2] and iPAddress [7] entries. */
export function subjectAltName(names: WantedNames): Extension {
  const entries = [
    ...names.hostnames.map((h) => implicitPrimitive(2, Buffer.from(h, 'ascii'))),
    ...names.addresses.map((a) => implicitPrimitive(7, addressToBytes(a))),
  ];
  return { oid: OID.subjectAltName, critical: false, value: encode(sequence(entries)) };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = children(decode(publicKey.export({ type: 'spki', format: 'der' })), 'SubjectPublicKeyInfo');
  const bits = contents(spki[1], 'subjectPublicKey').subarray(1); // drop the unused-bits octet
  return createHash('sha1').update(bits).digest();
}

/** subjectKeyIdentifier of publicKey. */
export function subjectKeyIdentifier(publicKey: KeyObject): Extension {
  return { oid: OID.subjectKeyIdentifier, critical: false, value: encode(octetString(keyIdentifier(publicKey))) };
}

/** authorityKeyIdentifier naming the issuer's key id ([0] keyIdentifier). */
export function authorityKeyIdentifier(keyId: Buffer): Extension {
  return { oid: OID.authorityKeyIdentifier, critical: false, value: encode(sequence([implicitPrimitive(0, keyId)])) };
}

/** The signature algorithm Beep uses with signer: SHA-256 with RSA (PKCS#1 v1.5) or ECDSA P-256. */
function signatureAlgorithm(signer: KeyObject): Asn1 {
  if (signer.asymmetricKeyType === 'rsa') return sequence([oid(OID.sha256WithRSAEncryption), nullValue()]);
  if (signer.asymmetricKeyType === 'ec' && signer.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return sequence([oid(OID.ecdsaWithSha256)]); // RFC 5758: parameters absent
  }
  throw new Error(`cannot sign with a ${signer.asymmetricKeyType} key (${signer.asymmetricKeyDetails?.namedCurve ?? 'no curve'}): Beep signs with RSA or P-256`);
}

function extensionNode(e: Extension): Asn1 {
  return sequence([oid(e.oid), ...(e.critical ? [boolean(true)] : []), octetString(e.value)]);
}

/** Signs spec with signer (the issuer's private key) and returns the certificate as PEM (LF line ends). */
export function signCertificate(spec: CertificateSpec, signer: KeyObject): string {
  const algorithm = signatureAlgorithm(signer);
  const tbs = encode(
    sequence([
      contextConstructed(0, [smallInteger(X509_V3)]),
      integerBytes(spec.serial),
      algorithm,
      decode(spec.issuer),
      sequence([time(spec.notBefore), time(spec.notAfter)]),
      decode(spec.subject),
      decode(spec.publicKey.export({ type: 'spki', format: 'der' })),
      contextConstructed(3, [sequence(spec.extensions.map(extensionNode))]),
    ]),
  );
  const signature = sign('sha256', tbs, signer); // DER ECDSA-Sig-Value for EC, PKCS#1 v1.5 for RSA
  const der = rawSequence([tbs, encode(algorithm), encode(bitString(signature))]);
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
