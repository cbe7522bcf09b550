import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { CHUNK_BYTES, DamagedFileError, decryptChunks, encryptChunks, keyIdOfHeader, sealedSize } from '../../../app/crypto/chunk-cipher';

// Attachment files in chunks: a round trip at the sizes around a chunk boundary, and every way
// a file can be cut, reordered or altered is refused.

const key = { id: 'k1', key: crypto.randomBytes(32) };
const lookup = (id: string) => {
  if (id !== key.id) throw new Error('unknown');
  return key.key;
};

async function seal(plain: Buffer, fileId = 'f1'): Promise<Buffer> {
  return buffer(Readable.from([plain]).pipe(encryptChunks(fileId, key)));
}

async function open(sealed: Buffer, fileId = 'f1'): Promise<Buffer> {
  // Fed in odd slices, as a disk read may hand them over.
  const parts: Buffer[] = [];
  for (let i = 0; i < sealed.length; i += 7919) parts.push(sealed.subarray(i, i + 7919));
  return buffer(Readable.from(parts).pipe(decryptChunks(fileId, lookup)));
}

describe('chunk cipher', () => {
  test.each([0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES, 3 * CHUNK_BYTES + 5])('round trip of %d bytes', async (size) => {
    const plain = crypto.randomBytes(size);
    const sealed = await seal(plain);
    expect(sealed.length).toBe(sealedSize(size, key.id));
    expect(keyIdOfHeader(sealed)).toBe('k1');
    expect((await open(sealed)).equals(plain)).toBe(true);
    if (size >= 32) expect(sealed.includes(plain.subarray(0, 32))).toBe(false);
  });

  test('a file cut at a chunk boundary is refused (the last chunk left is not marked last)', async () => {
    const sealed = await seal(crypto.randomBytes(2 * CHUNK_BYTES + 100));
    const header = sealed.length - (2 * CHUNK_BYTES + 100) - 3 * 16;
    const cut = sealed.subarray(0, header + 2 * (CHUNK_BYTES + 16));
    await expect(open(cut)).rejects.toBeInstanceOf(DamagedFileError);
  });

  test('a file cut inside a chunk, or to its header, is refused', async () => {
    const sealed = await seal(crypto.randomBytes(CHUNK_BYTES + 100));
    await expect(open(sealed.subarray(0, sealed.length - 1))).rejects.toBeInstanceOf(DamagedFileError);
    await expect(open(sealed.subarray(0, 20))).rejects.toBeInstanceOf(DamagedFileError);
    await expect(open(sealed.subarray(0, 5))).rejects.toBeInstanceOf(DamagedFileError);
  });

  test('reordered chunks, a flipped bit, another file id and an unknown key are refused', async () => {
    const size = 2 * CHUNK_BYTES + 10;
    const sealed = await seal(crypto.randomBytes(size));
    const header = sealed.length - size - 3 * 16;
    const a = sealed.subarray(header, header + CHUNK_BYTES + 16);
    const b = sealed.subarray(header + CHUNK_BYTES + 16, header + 2 * (CHUNK_BYTES + 16));
    const swapped = Buffer.concat([sealed.subarray(0, header), b, a, sealed.subarray(header + 2 * (CHUNK_BYTES + 16))]);
    await expect(open(swapped)).rejects.toBeInstanceOf(DamagedFileError);
    const flipped = Buffer.from(sealed);
    flipped[header + 5] ^= 1;
    await expect(open(flipped)).rejects.toBeInstanceOf(DamagedFileError);
    await expect(open(sealed, 'f2')).rejects.toBeInstanceOf(DamagedFileError);
    const other = Buffer.from(sealed);
    other[9] = 'x'.charCodeAt(0); // key id "x1"
    await expect(open(other)).rejects.toBeInstanceOf(DamagedFileError);
  });
});
