import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeSecretFile } from '../util/secure-file';

// Encrypted backup files: AES-256-GCM under a data key, streamed (a backup may be large).
// Layout: "BEEPBAK1" | u16 header length | header JSON (also the GCM associated data) |
// 12-byte IV | ciphertext | 16-byte tag.

/** Where the data key comes from. Today a key file; later the key ring's master key. */
export interface DataKeyProvider {
  /** A short public name of the key, stored in the header to explain a mismatch. */
  keyId(): string;
  key(): Buffer;
}

const MAGIC = Buffer.from('BEEPBAK1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface BackupHeader {
  v: 1;
  alg: 'aes-256-gcm';
  keyId: string;
  createdAt: string;
}

/** A backup could not be read back: wrong key, damaged or not a Beep backup. */
export class BackupFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFileError';
  }
}

/** <data dir>/keys/backup.key: 32 random bytes, mode 0600, made on first use. */
export class FileDataKey implements DataKeyProvider {
  private cached?: Buffer;

  constructor(readonly file: string) {}

  static inDataDir(dataDir: string): FileDataKey {
    return new FileDataKey(path.join(dataDir, 'keys', 'backup.key'));
  }

  key(): Buffer {
    if (this.cached) return this.cached;
    if (!fs.existsSync(this.file)) writeSecretFile(this.file, crypto.randomBytes(KEY_BYTES));
    const key = fs.readFileSync(this.file);
    if (key.length !== KEY_BYTES) throw new BackupFileError(`${this.file} is not a ${KEY_BYTES}-byte key`);
    this.cached = key;
    return key;
  }

  keyId(): string {
    return crypto.createHash('sha256').update(this.key()).digest('hex').slice(0, 16);
  }
}

/** Encrypts `plainFile` into `outFile` (written 0600 via a temp file and rename). */
export async function encryptFile(plainFile: string, outFile: string, keys: DataKeyProvider): Promise<void> {
  const header: BackupHeader = { v: 1, alg: 'aes-256-gcm', keyId: keys.keyId(), createdAt: new Date().toISOString() };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(2);
  length.writeUInt16BE(headerBytes.length);
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', keys.key(), iv);
  cipher.setAAD(headerBytes);
  const temp = `${outFile}.${process.pid}.tmp`;
  const out = fs.createWriteStream(temp, { mode: 0o600 });
  out.write(Buffer.concat([MAGIC, length, headerBytes, iv]));
  try {
    await pipeline(fs.createReadStream(plainFile), cipher, out, { end: false });
    await new Promise<void>((resolve, reject) => out.end(cipher.getAuthTag(), (e?: Error | null) => (e ? reject(e) : resolve())));
    fs.renameSync(temp, outFile);
  } catch (error) {
    out.destroy();
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

function readHeader(fd: number, size: number): { header: BackupHeader; headerBytes: Buffer; dataStart: number } {
  const fixed = Buffer.alloc(MAGIC.length + 2);
  if (size < fixed.length + IV_BYTES + TAG_BYTES || fs.readSync(fd, fixed, 0, fixed.length, 0) !== fixed.length || !fixed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupFileError('not a Beep backup file');
  }
  const headerBytes = Buffer.alloc(fixed.readUInt16BE(MAGIC.length));
  fs.readSync(fd, headerBytes, 0, headerBytes.length, fixed.length);
  let header: BackupHeader;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupFileError('the backup header is damaged');
  }
  if (header.v !== 1 || header.alg !== 'aes-256-gcm') throw new BackupFileError(`unsupported backup format (v${header.v}, ${header.alg})`);
  return { header, headerBytes, dataStart: fixed.length + headerBytes.length };
}

/** Decrypts `file` into `plainOut` (0600); throws BackupFileError on a wrong key or any damage. */
export async function decryptFile(file: string, plainOut: string, keys: DataKeyProvider): Promise<BackupHeader> {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r');
  let parsed: ReturnType<typeof readHeader>;
  const iv = Buffer.alloc(IV_BYTES);
  const tag = Buffer.alloc(TAG_BYTES);
  try {
    parsed = readHeader(fd, size);
    fs.readSync(fd, iv, 0, IV_BYTES, parsed.dataStart);
    fs.readSync(fd, tag, 0, TAG_BYTES, size - TAG_BYTES);
  } finally {
    fs.closeSync(fd);
  }
  if (parsed.header.keyId !== keys.keyId()) {
    throw new BackupFileError(`this backup was made with key ${parsed.header.keyId}, not this data directory's key ${keys.keyId()} (keys/backup.key)`);
  }
  const decipher = crypto.createDecipheriv('aes-256-gcm', keys.key(), iv);
  decipher.setAAD(parsed.headerBytes);
  decipher.setAuthTag(tag);
  const start = parsed.dataStart + IV_BYTES;
  try {
    await pipeline(fs.createReadStream(file, { start, end: size - TAG_BYTES - 1 }), decipher, fs.createWriteStream(plainOut, { mode: 0o600 }));
  } catch (error) {
    fs.rmSync(plainOut, { force: true });
    if ((error as Error).message.includes('authenticate')) throw new BackupFileError('the backup is damaged or was altered (authentication failed)');
    throw error;
  }
  return parsed.header;
}
