// A reader for Apple's binary property lists ("bplist00"), the format of the records in the
// macOS notification centre database. Only what those records use: no sets, no keyed UIDs.

export type PlistValue = null | boolean | number | bigint | string | Date | Buffer | PlistValue[] | { [key: string]: PlistValue };

/** Seconds between 1970-01-01 and Apple's epoch, 2001-01-01. */
export const APPLE_EPOCH_OFFSET_SEC = 978_307_200;
/** Objects a plist may hold before it is refused: a record is a few dozen. */
const MAX_OBJECTS = 100_000;
/** Nesting depth before a plist is refused (a cycle would otherwise never end). */
const MAX_DEPTH = 64;
/** Objects decoded in all, counting shared ones each time: stops a "billion laughs" plist. */
const MAX_DECODED = 200_000;

class PlistError extends Error {
  constructor(message: string) {
    super(`binary plist: ${message}`);
    this.name = 'PlistError';
  }
}

function readUInt(buf: Buffer, offset: number, size: number): number {
  if (offset < 0 || offset + size > buf.length) throw new PlistError('offset out of range');
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + buf[offset + i];
  return value;
}

/**
 * Decodes a binary plist.
 *
 *   parseBinaryPlist(row.data)  // { app: 'com.apple.Mail', req: { titl: 'New mail', body: '…' } }
 */
export function parseBinaryPlist(buf: Buffer): PlistValue {
  if (buf.length < 40 || buf.toString('latin1', 0, 8) !== 'bplist00') throw new PlistError('not a bplist00');
  const trailer = buf.length - 32;
  const offsetSize = buf[trailer + 6];
  const refSize = buf[trailer + 7];
  const count = readUInt(buf, trailer + 8, 8);
  const top = readUInt(buf, trailer + 16, 8);
  const tableAt = readUInt(buf, trailer + 24, 8);
  if (count > MAX_OBJECTS || top >= count || !offsetSize || !refSize) throw new PlistError('bad trailer');
  const offsetOf = (ref: number) => {
    if (ref >= count) throw new PlistError('object reference out of range');
    return readUInt(buf, tableAt + ref * offsetSize, offsetSize);
  };

  /** A marker's length: in its low nibble, or an int object after it when the nibble is 0xF. */
  function lengthAt(offset: number): { length: number; start: number } {
    const low = buf[offset] & 0x0f;
    if (low !== 0x0f) return { length: low, start: offset + 1 };
    const marker = buf[offset + 1];
    if (marker >> 4 !== 0x1) throw new PlistError('bad length');
    const size = 1 << (marker & 0x0f);
    return { length: readUInt(buf, offset + 2, size), start: offset + 2 + size };
  }

  let decoded = 0;
  function read(ref: number, depth: number): PlistValue {
    if (depth > MAX_DEPTH) throw new PlistError('nested too deep');
    if (++decoded > MAX_DECODED) throw new PlistError('too many objects');
    const offset = offsetOf(ref);
    if (offset >= trailer) throw new PlistError('object offset out of range');
    const marker = buf[offset];
    const type = marker >> 4;
    switch (type) {
      case 0x0:
        if (marker === 0x08) return false;
        if (marker === 0x09) return true;
        return null;
      case 0x1: {
        const size = 1 << (marker & 0x0f);
        if (size === 8) return buf.readBigInt64BE(offset + 1) <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(buf.readBigInt64BE(offset + 1)) : buf.readBigInt64BE(offset + 1);
        if (size > 8) throw new PlistError('integer too large');
        return readUInt(buf, offset + 1, size);
      }
      case 0x2:
        return (marker & 0x0f) === 2 ? buf.readFloatBE(offset + 1) : buf.readDoubleBE(offset + 1);
      case 0x3:
        return new Date((buf.readDoubleBE(offset + 1) + APPLE_EPOCH_OFFSET_SEC) * 1000);
      case 0x4:
      case 0x5:
      case 0x6: {
        const { length, start } = lengthAt(offset);
        const bytes = type === 0x6 ? length * 2 : length;
        if (start + bytes > trailer) throw new PlistError('value runs past the end');
        if (type === 0x4) return Buffer.from(buf.subarray(start, start + bytes));
        if (type === 0x5) return buf.toString('latin1', start, start + bytes);
        return Buffer.from(buf.subarray(start, start + bytes)).swap16().toString('utf16le');
      }
      case 0x8:
        return readUInt(buf, offset + 1, (marker & 0x0f) + 1);
      case 0xa:
      case 0xd: {
        const { length, start } = lengthAt(offset);
        const refs = (n: number) => readUInt(buf, start + n * refSize, refSize);
        if (type === 0xa) return Array.from({ length }, (_, i) => read(refs(i), depth + 1));
        const dict: { [key: string]: PlistValue } = Object.create(null);
        for (let i = 0; i < length; i++) {
          const key = read(refs(i), depth + 1);
          if (typeof key !== 'string') throw new PlistError('dictionary key is not a string');
          dict[key] = read(refs(length + i), depth + 1);
        }
        return dict;
      }
      default:
        throw new PlistError(`unsupported object type 0x${type.toString(16)}`);
    }
  }

  return read(top, 0);
}
