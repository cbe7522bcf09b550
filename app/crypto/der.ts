// The few DER shapes building an X.509 certificate needs, over node-forge's ASN.1 codec: forge's
// certificate API only knows RSA keys and a fixed set of extensions, so Beep builds certificates
// at this level (P-256 keys, nameConstraints). Values cross as Buffers; forge's binary strings
// stay here. forge (~10 MB resident) is required on first use — when a certificate is issued —
// not at start; reading certificates needs no forge (der-reader.ts).
import type * as Forge from 'node-forge';

/** node-forge, loaded the first time a node is built (require caches it). */
function forge(): typeof Forge {
  return require('node-forge') as typeof Forge;
}
const asn1 = () => forge().asn1;
/** forge's tag classes: universal 0x00, context-specific 0x80. */
const UNIVERSAL = 0x00 as Forge.asn1.Class;
const CONTEXT = 0x80 as Forge.asn1.Class;
/** forge's universal types (asn1.Type) used below: the numbers of X.680. */
const TYPE = { BOOLEAN: 1, INTEGER: 2, BITSTRING: 3, OCTETSTRING: 4, NULL: 5, OID: 6, UTF8: 12, SEQUENCE: 16, SET: 17, UTCTIME: 23, GENERALIZEDTIME: 24 } as const;
const UTC_TIME_LAST_YEAR = 2049; // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050

/** One ASN.1 node, as forge represents it. */
export type Asn1 = Forge.asn1.Asn1;

const bin = (bytes: Buffer): string => bytes.toString('binary');

/** SEQUENCE of the given nodes. */
export const sequence = (items: Asn1[]): Asn1 => asn1().create(UNIVERSAL, TYPE.SEQUENCE, true, items);
/** SET of the given nodes. */
export const set = (items: Asn1[]): Asn1 => asn1().create(UNIVERSAL, TYPE.SET, true, items);
/** OBJECT IDENTIFIER from its dotted form. */
export const oid = (dotted: string): Asn1 => asn1().create(UNIVERSAL, TYPE.OID, false, asn1().oidToDer(dotted).getBytes());
/** BOOLEAN (DER: 0xFF for true). */
export const boolean = (value: boolean): Asn1 => asn1().create(UNIVERSAL, TYPE.BOOLEAN, false, value ? '\xff' : '\x00');
/** INTEGER from a small non-negative number. */
export const smallInteger = (value: number): Asn1 => asn1().create(UNIVERSAL, TYPE.INTEGER, false, asn1().integerToDer(value).getBytes());
/** INTEGER from big-endian bytes that are already minimal and positive (a serial number). */
export const integerBytes = (bytes: Buffer): Asn1 => asn1().create(UNIVERSAL, TYPE.INTEGER, false, bin(bytes));
/** OCTET STRING. */
export const octetString = (bytes: Buffer): Asn1 => asn1().create(UNIVERSAL, TYPE.OCTETSTRING, false, bin(bytes));
/** BIT STRING with no unused bits (signatures, key usage is handled by its encoder). */
export const bitString = (bytes: Buffer, unusedBits = 0): Asn1 =>
  asn1().create(UNIVERSAL, TYPE.BITSTRING, false, String.fromCharCode(unusedBits) + bin(bytes));
/** NULL (the parameters of an RSA signature algorithm). */
export const nullValue = (): Asn1 => asn1().create(UNIVERSAL, TYPE.NULL, false, '');
/** UTF8String. */
export const utf8 = (text: string): Asn1 => asn1().create(UNIVERSAL, TYPE.UTF8, false, forge().util.encodeUtf8(text));
/** [n] IMPLICIT primitive: a GeneralName such as dNSName [2] or iPAddress [7]. */
export const implicitPrimitive = (tag: number, bytes: Buffer): Asn1 => asn1().create(CONTEXT, tag, false, bin(bytes));
/** [n] constructed: an EXPLICIT wrapper, or an IMPLICIT SEQUENCE such as permittedSubtrees [0]. */
export const contextConstructed = (tag: number, items: Asn1[]): Asn1 => asn1().create(CONTEXT, tag, true, items);

/** A validity time: UTCTime through 2049, GeneralizedTime after (RFC 5280). */
export function time(date: Date): Asn1 {
  return date.getUTCFullYear() <= UTC_TIME_LAST_YEAR
    ? asn1().create(UNIVERSAL, TYPE.UTCTIME, false, asn1().dateToUtcTime(date))
    : asn1().create(UNIVERSAL, TYPE.GENERALIZEDTIME, false, asn1().dateToGeneralizedTime(date));
}

/** DER bytes of a node. */
export function encode(node: Asn1): Buffer {
  return Buffer.from(asn1().toDer(node).getBytes(), 'binary');
}

/** A SEQUENCE around already-encoded parts, byte for byte (what a signature covers stays untouched). */
export function rawSequence(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]); // 0x30: universal, constructed, SEQUENCE
}

/** DER length octets: short form below 128, else 0x80|n followed by n big-endian octets. */
function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n & 0xff);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** Parses DER strictly; bit strings stay opaque so re-encoding a parsed node is byte-identical. */
export function decode(der: Buffer): Asn1 {
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
  return asn1().fromDer(forge().util.createBuffer(bin(der)), options as unknown as boolean);
}

/** The children of a constructed node (throws on a primitive, which means a malformed input). */
export function children(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new Error(`malformed certificate: ${what} is not constructed`);
  return node.value as Asn1[];
}

/** The content bytes of a primitive node. */
export function contents(node: Asn1 | undefined, what: string): Buffer {
  if (!node || typeof node.value !== 'string') throw new Error(`malformed certificate: ${what} is not primitive`);
  return Buffer.from(node.value, 'binary');
}
