// The few DER shapes building an X.509 certificate needs, written directly: a node is its own
// DER encoding (a Buffer), so building a certificate is concatenation and nothing is parsed and
// re-encoded. Beep builds certificates at this level (P-256 keys, nameConstraints); reading them
// is der-reader.ts. No dependency: node-forge (~10 MB resident) is never loaded by the daemon.
import { childrenOf, contentOf, readDer } from './der-reader';

/** One ASN.1 node: its complete DER encoding (tag, length, content). */
export type Asn1 = Buffer;

/** Universal types used below: the numbers of X.680. */
const TYPE = { BOOLEAN: 1, INTEGER: 2, BITSTRING: 3, OCTETSTRING: 4, NULL: 5, OID: 6, UTF8: 12, SEQUENCE: 16, SET: 17, UTCTIME: 23, GENERALIZEDTIME: 24 } as const;
/** Identifier-octet bits: the context-specific class and the constructed form. */
const CONTEXT = 0x80;
const CONSTRUCTED = 0x20;
const UTC_TIME_LAST_YEAR = 2049; // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050

/** DER length octets: short form below 128, else 0x80|n followed by n big-endian octets. */
function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n & 0xff);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** A node from its identifier octet (low tag numbers only, as X.509 uses) and its content. */
function tlv(identifier: number, content: Buffer): Asn1 {
  return Buffer.concat([Buffer.from([identifier]), derLength(content.length), content]);
}

/** SEQUENCE of the given nodes. */
export const sequence = (items: Asn1[]): Asn1 => tlv(CONSTRUCTED | TYPE.SEQUENCE, Buffer.concat(items));
/** SET of the given nodes (one member wherever Beep uses it, so DER's ordering rule is moot). */
export const set = (items: Asn1[]): Asn1 => tlv(CONSTRUCTED | TYPE.SET, Buffer.concat(items));

/** OBJECT IDENTIFIER from its dotted form (X.690 §8.19: first two arcs as 40*a+b, base 128). */
export function oid(dotted: string): Asn1 {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`not an OID: ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const groups = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return tlv(TYPE.OID, Buffer.from(bytes));
}

/** BOOLEAN (DER: 0xFF for true). */
export const boolean = (value: boolean): Asn1 => tlv(TYPE.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));

/** INTEGER from a small non-negative number: minimal two's complement, big-endian. */
export function smallInteger(value: number): Asn1 {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a small non-negative integer: ${value}`);
  const octets: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) octets.unshift(n & 0xff);
  if (octets.length === 0 || octets[0]! & 0x80) octets.unshift(0); // zero, or keep the sign bit clear
  return tlv(TYPE.INTEGER, Buffer.from(octets));
}

/** INTEGER from big-endian bytes that are already minimal and positive (a serial number). */
export const integerBytes = (bytes: Buffer): Asn1 => tlv(TYPE.INTEGER, bytes);
/** OCTET STRING. */
export const octetString = (bytes: Buffer): Asn1 => tlv(TYPE.OCTETSTRING, bytes);
/** BIT STRING: the unused-bits octet, then the bits (signatures have none unused). */
export const bitString = (bytes: Buffer, unusedBits = 0): Asn1 => tlv(TYPE.BITSTRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
/** NULL (the parameters of an RSA signature algorithm). */
export const nullValue = (): Asn1 => tlv(TYPE.NULL, Buffer.alloc(0));
/** UTF8String. */
export const utf8 = (text: string): Asn1 => tlv(TYPE.UTF8, Buffer.from(text, 'utf8'));
/** [n] IMPLICIT primitive: a GeneralName such as dNSName [2] or iPAddress [7]. */
export const implicitPrimitive = (tag: number, bytes: Buffer): Asn1 => tlv(CONTEXT | tag, bytes);
/** [n] constructed: an EXPLICIT wrapper, or an IMPLICIT SEQUENCE such as permittedSubtrees [0]. */
export const contextConstructed = (tag: number, items: Asn1[]): Asn1 => tlv(CONTEXT | CONSTRUCTED | tag, Buffer.concat(items));

const two = (n: number) => String(n).padStart(2, '0');

/** A validity time to the second: UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime (YYYYMMDDHHMMSSZ) after (RFC 5280). */
export function time(date: Date): Asn1 {
  const year = date.getUTCFullYear();
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return year <= UTC_TIME_LAST_YEAR
    ? tlv(TYPE.UTCTIME, Buffer.from(`${two(year % 100)}${rest}`, 'ascii'))
    : tlv(TYPE.GENERALIZEDTIME, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'ascii'));
}

/** DER bytes of a node (a node is its encoding). */
export function encode(node: Asn1): Buffer {
  return node;
}

/** A SEQUENCE around already-encoded parts, byte for byte (what a signature covers stays untouched). */
export function rawSequence(parts: Buffer[]): Buffer {
  return sequence(parts);
}

/** Checks DER strictly (der-reader.ts) and returns it as a node, byte for byte. */
export function decode(der: Buffer): Asn1 {
  return readDer(der).raw;
}

/** The children of a constructed node (throws on a primitive, which means a malformed input). */
export function children(node: Asn1 | undefined, what: string): Asn1[] {
  return childrenOf(node && readDer(node), what).map((child) => child.raw);
}

/** The content bytes of a primitive node. */
export function contents(node: Asn1 | undefined, what: string): Buffer {
  return contentOf(node && readDer(node), what);
}
