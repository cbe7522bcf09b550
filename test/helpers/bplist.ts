// A writer for Apple's binary property lists, so the tests can build notification centre
// databases in the format macOS writes (the daemon only ever reads them).

type Value = null | boolean | number | string | Date | Buffer | Value[] | { [key: string]: Value };

const APPLE_EPOCH_MS = Date.UTC(2001, 0, 1);

function header(type: number, length: number): Buffer {
  if (length < 15) return Buffer.from([(type << 4) | length]);
  const size = length < 0x100 ? 0 : length < 0x10000 ? 1 : 2;
  const out = Buffer.alloc(2 + (1 << size));
  out[0] = (type << 4) | 0x0f;
  out[1] = 0x10 | size;
  out.writeUIntBE(length, 2, 1 << size);
  return out;
}

/** Encodes a value as "bplist00" (objects are not shared; fine for test fixtures). */
export function buildBinaryPlist(root: Value): Buffer {
  const objects: Buffer[] = [];
  const pending: { index: number; refs: number[]; type: number; count: number }[] = [];

  function add(value: Value): number {
    const index = objects.length;
    objects.push(Buffer.alloc(0));
    if (value === null) objects[index] = Buffer.from([0x00]);
    else if (typeof value === 'boolean') objects[index] = Buffer.from([value ? 0x09 : 0x08]);
    else if (typeof value === 'number' && Number.isInteger(value)) {
      const b = Buffer.alloc(9);
      b[0] = 0x13;
      b.writeBigInt64BE(BigInt(value), 1);
      objects[index] = b;
    } else if (typeof value === 'number' || value instanceof Date) {
      const b = Buffer.alloc(9);
      b[0] = value instanceof Date ? 0x33 : 0x23;
      b.writeDoubleBE(value instanceof Date ? (value.getTime() - APPLE_EPOCH_MS) / 1000 : value, 1);
      objects[index] = b;
    } else if (Buffer.isBuffer(value)) objects[index] = Buffer.concat([header(0x4, value.length), value]);
    else if (typeof value === 'string') {
      const ascii = /^[\x00-\x7f]*$/.test(value);
      const body = ascii ? Buffer.from(value, 'latin1') : Buffer.from(value, 'utf16le').swap16();
      objects[index] = Buffer.concat([header(ascii ? 0x5 : 0x6, ascii ? body.length : body.length / 2), body]);
    } else if (Array.isArray(value)) {
      pending.push({ index, type: 0xa, count: value.length, refs: value.map(add) });
    } else {
      const keys = Object.keys(value);
      const keyRefs = keys.map(add);
      pending.push({ index, type: 0xd, count: keys.length, refs: [...keyRefs, ...keys.map((k) => add(value[k]))] });
    }
    return index;
  }

  add(root);
  const refSize = objects.length < 0x100 ? 1 : 2;
  for (const p of pending) {
    const refs = Buffer.alloc(p.refs.length * refSize);
    p.refs.forEach((r, i) => refs.writeUIntBE(r, i * refSize, refSize));
    objects[p.index] = Buffer.concat([header(p.type, p.count), refs]);
  }
  const offsets: number[] = [];
  let at = 8;
  for (const o of objects) {
    offsets.push(at);
    at += o.length;
  }
  const offsetSize = at < 0x100 ? 1 : at < 0x10000 ? 2 : 4;
  const table = Buffer.alloc(offsets.length * offsetSize);
  offsets.forEach((o, i) => table.writeUIntBE(o, i * offsetSize, offsetSize));
  const trailer = Buffer.alloc(32);
  trailer[6] = offsetSize;
  trailer[7] = refSize;
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(0n, 16);
  trailer.writeBigUInt64BE(BigInt(at), 24);
  return Buffer.concat([Buffer.from('bplist00', 'latin1'), ...objects, table, trailer]);
}
