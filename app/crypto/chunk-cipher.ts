import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

// Attachment files at rest: AES-256-GCM in fixed-size chunks, streamed both ways (a file is
// never held whole). Layout:
//   "BEEPATT1" | u8 key-id length | key id (ascii) | 16-byte salt | chunk… 
// each chunk is its ciphertext and its own 16-byte tag; every chunk holds CHUNK_BYTES of
// plaintext but the last, which holds 0..CHUNK_BYTES. The file's key is derived from the data
// key (named in the header) with the salt and the file's id, so the nonce can be the chunk's
// counter. The associated data names the file, the chunk's index and whether it is the last:
// a chunk moved, repeated or dropped, a file cut at a chunk boundary or cut short, all fail.

/** Plaintext bytes per chunk: small enough to verify before a byte of it is sent. */
export const CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const SALT_BYTES = 16;
const MAGIC = Buffer.from('BEEPATT1');

/** A data key's attachment key, and its id (crypto/FieldCipher.fileKey implements the lookup). */
export interface FileKey {
  id: string;
  key: Buffer;
}

/** Finds the key a file names (throws when it is not in the ring). */
export type FileKeyLookup = (id: string) => Buffer;

/** A file's bytes could not be authenticated: damaged, cut, or under an unknown key. */
export class DamagedFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DamagedFileError';
  }
}

function headerOf(keyId: string, salt: Buffer): Buffer {
  const id = Buffer.from(keyId, 'ascii');
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, salt]);
}

function fileKeyOf(key: Buffer, salt: Buffer, fileId: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', key, salt, `beep-attachment:${fileId}`, 32));
}

function nonceOf(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(index, 6, 6);
  return nonce;
}

function aadOf(fileId: string, index: number, final: boolean): Buffer {
  return Buffer.from(`beep-attachment:v1:${fileId}:${index}:${final ? 1 : 0}`);
}

/** Bytes a file of `size` plaintext bytes takes on disk under `keyId` (a shorter file was cut). */
export function sealedSize(size: number, keyId: string): number {
  const chunks = Math.max(1, Math.ceil(size / CHUNK_BYTES));
  return MAGIC.length + 1 + Buffer.byteLength(keyId, 'ascii') + SALT_BYTES + size + chunks * TAG_BYTES;
}

/** The key id a file's header names, or null when the bytes are no attachment file. */
export function keyIdOfHeader(head: Buffer): string | null {
  if (head.length < MAGIC.length + 1 || !head.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const length = head[MAGIC.length];
  if (head.length < MAGIC.length + 1 + length) return null;
  return head.subarray(MAGIC.length + 1, MAGIC.length + 1 + length).toString('ascii');
}

/**
 * Encrypts a stream into the file format.
 *
 *   await pipeline(source, encryptChunks('f-1', cipher.fileKey()), fs.createWriteStream(file));
 */
export function encryptChunks(fileId: string, key: FileKey): Transform {
  const salt = crypto.randomBytes(SALT_BYTES);
  const fileKey = fileKeyOf(key.key, salt, fileId);
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  const seal = (plain: Buffer, final: boolean): Buffer => {
    const cipher = crypto.createCipheriv('aes-256-gcm', fileKey, nonceOf(index));
    cipher.setAAD(aadOf(fileId, index++, final));
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
  let headerSent = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!headerSent) this.push(headerOf(key.id, salt)), (headerSent = true);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      // A full chunk is sealed as not-last only once a byte beyond it has arrived.
      while (pending.length > CHUNK_BYTES) {
        this.push(seal(pending.subarray(0, CHUNK_BYTES), false));
        pending = pending.subarray(CHUNK_BYTES);
      }
      done();
    },
    flush(done: TransformCallback) {
      if (!headerSent) this.push(headerOf(key.id, salt));
      this.push(seal(pending, true));
      done();
    },
  });
}

/**
 * Decrypts a stream of the file format; each chunk is authenticated before any of it is
 * pushed, and the stream fails (DamagedFileError) on the first chunk that does not open.
 */
export function decryptChunks(fileId: string, lookup: FileKeyLookup): Transform {
  let buffered: Buffer = Buffer.alloc(0);
  let fileKey: Buffer | null = null;
  let index = 0;
  const SEALED = CHUNK_BYTES + TAG_BYTES;
  const open = (sealed: Buffer, final: boolean): Buffer => {
    if (!fileKey) throw new DamagedFileError('the attachment file has no header');
    if (sealed.length < TAG_BYTES) throw new DamagedFileError('the attachment file is cut short');
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', fileKey, nonceOf(index));
      decipher.setAAD(aadOf(fileId, index++, final));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DamagedFileError(`chunk ${index - 1} of the attachment file does not authenticate (damaged, cut or reordered)`);
    }
  };
  const readHeader = (): boolean => {
    const keyId = keyIdOfHeader(buffered);
    if (keyId === null) {
      if (buffered.length >= MAGIC.length && !buffered.subarray(0, MAGIC.length).equals(MAGIC)) throw new DamagedFileError('not an attachment file');
      return false;
    }
    const start = MAGIC.length + 1 + Buffer.byteLength(keyId, 'ascii');
    if (buffered.length < start + SALT_BYTES) return false;
    let key: Buffer;
    try {
      key = lookup(keyId);
    } catch {
      throw new DamagedFileError(`the attachment file is sealed under an unknown key ${keyId}`);
    }
    fileKey = fileKeyOf(key, buffered.subarray(start, start + SALT_BYTES), fileId);
    buffered = buffered.subarray(start + SALT_BYTES);
    return true;
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      try {
        buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
        if (!fileKey && !readHeader()) return done();
        // A whole sealed chunk is known not to be the last only once a byte beyond it is here.
        while (buffered.length > SEALED) {
          this.push(open(buffered.subarray(0, SEALED), false));
          buffered = buffered.subarray(SEALED);
        }
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        if (!fileKey && !readHeader()) throw new DamagedFileError('the attachment file is cut short');
        this.push(open(buffered, true));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
