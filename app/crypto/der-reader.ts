// A strict DER reader, with no dependency: what reading a certificate at every start needs
// (x509-reader.ts, name constraints); der.ts is its writer. Definite lengths only, minimal
// length octets, low tag numbers (X.509 uses nothing else); anything else is a malformed input.

/** One DER node: its tag, its content bytes and its whole encoding (what a signature covers). */
export interface DerNode {
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  tagClass: number;
  tag: number;
  constructed: boolean;
  content: Buffer;
  raw: Buffer;
}

const CONTEXT_CLASS = 2;
const UNIVERSAL_CLASS = 0;
/** Universal tag numbers the reader's callers check. */
export const DerType = { BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, OID: 6, SEQUENCE: 16, SET: 17, UTC_TIME: 23, GENERALIZED_TIME: 24 } as const;

function malformed(what: string): Error {
  return new Error(`malformed certificate: ${what}`);
}

/** The node starting at `offset`, and where the next one starts. */
function readAt(der: Buffer, offset: number): { node: DerNode; end: number } {
  if (offset + 2 > der.length) throw malformed('truncated DER');
  const first = der[offset]!;
  if ((first & 0x1f) === 0x1f) throw malformed('high tag number');
  let length = der[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw malformed('indefinite or oversized length');
    if (offset + 2 + octets > der.length) throw malformed('truncated length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[offset + 2 + i]!;
    if (length < 0x80 || der[offset + 2] === 0) throw malformed('non-minimal length');
    header += octets;
  }
  const end = offset + header + length;
  if (end > der.length) throw malformed('truncated content');
  const node = {
    tagClass: first >> 6,
    tag: first & 0x1f,
    constructed: (first & 0x20) !== 0,
    content: der.subarray(offset + header, end),
    raw: der.subarray(offset, end),
  };
  return { node, end };
}

/** Parses one DER node that must span all of `der`. */
export function readDer(der: Buffer): DerNode {
  const { node, end } = readAt(der, 0);
  if (end !== der.length) throw malformed('trailing bytes');
  return node;
}

/** The children of a constructed node (throws on a primitive, which means a malformed input). */
export function childrenOf(node: DerNode | undefined, what: string): DerNode[] {
  if (!node || !node.constructed) throw malformed(`${what} is not constructed`);
  const out: DerNode[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const next = readAt(node.content, offset);
    out.push(next.node);
    offset = next.end;
  }
  return out;
}

/** The content bytes of a primitive node. */
export function contentOf(node: DerNode | undefined, what: string): Buffer {
  if (!node || node.constructed) throw malformed(`${what} is not primitive`);
  return node.content;
}

/** The dotted form of an OBJECT IDENTIFIER node. */
export function oidText(node: DerNode | undefined): string {
  const bytes = contentOf(node, 'OID');
  if (bytes.length === 0) throw malformed('empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (b & 0x80) continue;
    if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
    else arcs.push(value);
    value = 0;
  }
  if (bytes[bytes.length - 1]! & 0x80) throw malformed('truncated OID');
  return arcs.join('.');
}

/** The Date of a UTCTime (YYMMDDHHMM[SS]Z, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z) node. */
export function timeOf(node: DerNode | undefined): Date {
  const text = contentOf(node, 'time').toString('ascii');
  const utc = node!.tag === DerType.UTC_TIME;
  const match = utc
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(text);
  if (!match || (!utc && node!.tag !== DerType.GENERALIZED_TIME)) throw malformed(`time ${text}`);
  const [, y, mo, d, h, mi, s = '0', fraction = ''] = match;
  const year = utc ? (Number(y) >= 50 ? 1900 : 2000) + Number(y) : Number(y);
  const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  return new Date(Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms));
}

/** Is this node [tag] in the context-specific class? */
export function isContextTag(node: DerNode, tag: number): boolean {
  return node.tagClass === CONTEXT_CLASS && node.tag === tag;
}

/** Is this node of the given universal type (DerType)? */
export function isUniversalType(node: DerNode, type: number): boolean {
  return node.tagClass === UNIVERSAL_CLASS && node.tag === type;
}
