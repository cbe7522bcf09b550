import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { finished, PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptChunks, encryptChunks, keyIdOfHeader, sealedSize, type FileKey } from '../crypto/chunk-cipher';
import { BeepError } from '../domain/errors';
import type { Db } from './database';
import type { GroupWriter } from './group-writer';
import type { ReadPool } from './read-pool';

// Attachment files in <data dir>/attachments: streamed in (never held whole), encrypted in
// chunks under the current data key's file key, counted against a per-file and a total quota
// as the bytes arrive, deleted when they expire or their notification is gone; read back only
// when the file on disk has exactly the size its record says (a cut file is never served short).

/** The data keys' file keys (crypto/FieldCipher implements it). */
export interface FileKeys {
  fileKey(id?: string): FileKey;
}

/** The quotas, in bytes, and how long a file is kept. */
export interface AttachmentLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  expiryMs: number;
}

/** What the table knows of a stored file. */
export interface AttachmentRecord {
  id: string;
  notificationId: string | null;
  keyId: string;
  size: number;
  expiresMs: number;
}

/** A file just stored: its id, size, sniffed type and when it goes. */
export interface SavedFile {
  id: string;
  size: number;
  type: string;
  expiresMs: number;
}

/** ms an upload's record may stay unlinked to a notification before the sweep deletes it. */
const UNLINKED_GRACE_MS = 10 * 60 * 1000;
/** Bytes kept from a file's start to tell its type. */
const SNIFF_BYTES = 16;
const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** The type of a file from its first bytes: the image types a phone may preview, else octet-stream. */
export function sniffType(head: Buffer): string {
  const starts = (hex: string, at = 0) => head.subarray(at, at + hex.length / 2).equals(Buffer.from(hex, 'hex'));
  if (starts('89504e470d0a1a0a')) return 'image/png';
  if (starts('ffd8ff')) return 'image/jpeg';
  if (starts('474946383761') || starts('474946383961')) return 'image/gif';
  if (starts('52494646') && starts('57454250', 8)) return 'image/webp';
  if (starts('25504446')) return 'application/pdf';
  return 'application/octet-stream';
}

interface Row {
  id: string;
  notification_id: string | null;
  key_id: string;
  size: number;
  expires_ms: number;
}

const toRecord = (r: Row): AttachmentRecord => ({ id: r.id, notificationId: r.notification_id, keyId: r.key_id, size: r.size, expiresMs: r.expires_ms });

/**
 * The attachment files.
 *
 *   const saved = await files.save(req);            // 413 attachment_too_large past a quota
 *   const { size, stream } = await files.open(id);  // throws when missing, expired or cut
 */
export class AttachmentFiles {
  readonly dir: string;
  /** Bytes of stored files (null until first read from the table). */
  private used: number | null = null;
  /** Bytes of uploads in progress, counted as they arrive. */
  private receiving = 0;

  constructor(
    dataDir: string,
    private readonly db: Db,
    private readonly writer: GroupWriter,
    private readonly pool: ReadPool,
    private readonly keys: FileKeys,
    private readonly limits: AttachmentLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.dir = path.join(dataDir, 'attachments');
  }

  private fileOf(id: string): string {
    if (!ID_PATTERN.test(id)) throw new BeepError('attachment_expired');
    return path.join(this.dir, id);
  }

  private async usedBytes(): Promise<number> {
    if (this.used === null) {
      const row = await this.pool.get<{ n: number | null }>('SELECT SUM(size) AS n FROM attachments');
      this.used ??= row?.n ?? 0;
    }
    return this.used;
  }

  /** Streams `source` into a new encrypted file; refuses (and deletes it) past either quota. */
  async save(source: Readable, declaredBytes?: number): Promise<SavedFile> {
    const { maxFileBytes, maxTotalBytes } = this.limits;
    const used = await this.usedBytes();
    const tooLarge = () => new BeepError('attachment_too_large', `The attachment is larger than ${maxFileBytes} bytes.`);
    const full = () => new BeepError('attachment_too_large', `The attachments' total quota (${maxTotalBytes} bytes) is full; try again once older ones expire.`);
    if (declaredBytes !== undefined && declaredBytes > maxFileBytes) throw tooLarge();
    if (declaredBytes !== undefined && used + this.receiving + declaredBytes > maxTotalBytes) throw full();
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const id = crypto.randomBytes(16).toString('base64url');
    const part = `${this.fileOf(id)}.part`;
    const key = this.keys.fileKey();
    let size = 0;
    let head: Buffer = Buffer.alloc(0);
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        size += chunk.length;
        this.receiving += chunk.length;
        if (head.length < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
        if (size > maxFileBytes) return done(tooLarge());
        if ((this.used ?? 0) + this.receiving > maxTotalBytes) return done(full());
        done(null, chunk);
      },
    });
    // The source is piped, not handed to the pipeline: a refusal stops reading it without
    // destroying it, so an HTTP request still gets its answer (then its connection closes).
    const input = new PassThrough();
    finished(source, { writable: false }, (error) => error && input.destroy(error));
    source.pipe(input);
    const out = fs.createWriteStream(part, { mode: 0o600 });
    try {
      await pipeline(input, counter, encryptChunks(id, key), out);
      const handle = await fs.promises.open(part, 'r');
      await handle.sync().finally(() => handle.close());
      const expiresMs = this.now() + this.limits.expiryMs;
      // In place before its record: killed in between, the file is a stray the sweep removes; never a record without its file.
      fs.renameSync(part, this.fileOf(id));
      await this.writer.run(
        (db) => {
          db.prepare('INSERT INTO attachments (id, notification_id, key_id, size, created_ms, expires_ms) VALUES (?, NULL, ?, ?, ?, ?)').run(id, key.id, size, this.now(), expiresMs);
        },
        () => void (this.used = (this.used ?? 0) + size),
      );
      return { id, size, type: sniffType(head), expiresMs };
    } catch (error) {
      source.unpipe(input);
      // A refusal can come while the file is still being opened: it is removed once the stream
      // has let go of it, or the open would create it again after the removal.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      fs.rmSync(part, { force: true });
      fs.rmSync(this.fileOf(id), { force: true });
      throw error;
    } finally {
      this.receiving -= size;
    }
  }

  /** The record of a stored file, or undefined. */
  async find(id: string): Promise<AttachmentRecord | undefined> {
    const row = await this.pool.get<Row>('SELECT id, notification_id, key_id, size, expires_ms FROM attachments WHERE id = ?', [id]);
    return row ? toRecord(row) : undefined;
  }

  /**
   * The decrypted bytes of a stored, unexpired file. Refused before a byte is read when the file
   * on disk is not exactly the size its record implies; the stream fails on a chunk that does
   * not authenticate.
   */
  async open(record: AttachmentRecord): Promise<Readable> {
    if (record.expiresMs <= this.now()) throw new BeepError('attachment_expired');
    const file = this.fileOf(record.id);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch {
      throw new BeepError('attachment_expired');
    }
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(64);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const keyId = keyIdOfHeader(head.subarray(0, bytesRead));
      if (keyId === null || size !== sealedSize(record.size, keyId)) {
        throw new BeepError('attachment_damaged', `The attachment file is ${size} bytes where ${sealedSize(record.size, keyId ?? record.keyId)} were written; it is not served.`);
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    const raw = handle.createReadStream({ start: 0 });
    const plain = decryptChunks(record.id, (keyId) => this.keys.fileKey(keyId).key);
    // The reader closes the file however it ends (a client gone mid-download destroys `plain`).
    raw.once('error', (error) => plain.destroy(error));
    plain.once('close', () => raw.destroy());
    return raw.pipe(plain);
  }

  /** A file whose notification was refused or muted: gone at once. */
  async discard(id: string): Promise<void> {
    const row = await this.find(id);
    await this.writer.run((db) => void db.prepare('DELETE FROM attachments WHERE id = ?').run(id));
    fs.rmSync(this.fileOf(id), { force: true });
    if (row) this.used = Math.max(0, (this.used ?? 0) - row.size);
  }

  /**
   * Deletes expired files, files whose notification retention removed, uploads never linked to
   * a notification (a scheduled one waiting for its due time counts as one), and files on disk
   * without a record (a crash between write and commit).
   */
  async sweep(): Promise<number> {
    const now = this.now();
    const gone = await this.writer.run((db) => {
      const rows = db
        .prepare(
          `SELECT id, size FROM attachments WHERE expires_ms <= ?
             OR (notification_id IS NULL AND created_ms < ?)
             OR (notification_id IS NOT NULL AND notification_id NOT IN (SELECT id FROM notifications)
                 AND notification_id NOT IN (SELECT id FROM scheduled_notifications))`,
        )
        .all(now, now - UNLINKED_GRACE_MS) as { id: string; size: number }[];
      const del = db.prepare('DELETE FROM attachments WHERE id = ?');
      for (const r of rows) del.run(r.id);
      return rows;
    });
    for (const r of gone) fs.rmSync(this.fileOf(r.id), { force: true });
    if (this.used !== null) this.used = Math.max(0, this.used - gone.reduce((n, r) => n + r.size, 0));
    const known = new Set((this.db.prepare('SELECT id FROM attachments').all() as { id: string }[]).map((r) => r.id));
    let strays = 0;
    for (const name of fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : []) {
      const id = name.replace(/\.(part|rekey)$/, '');
      if (known.has(id) && name === id) continue;
      // An upload in progress has a .part file and no record yet: left alone until it is old.
      const stat = fs.statSync(path.join(this.dir, name), { throwIfNoEntry: false });
      if (stat && now - stat.mtimeMs > UNLINKED_GRACE_MS) {
        fs.rmSync(path.join(this.dir, name), { force: true });
        strays++;
      }
    }
    return gone.length + strays;
  }

  /**
   * Key rotation's part: every file not under `targetKeyId` is re-encrypted under it (to a
   * side file, then renamed over the old one) and its record updated. Resumable: the header of
   * the file on disk says which key it is under.
   */
  async rekey(targetKeyId: string): Promise<number> {
    const rows = this.db.prepare('SELECT id, notification_id, key_id, size, expires_ms FROM attachments WHERE key_id != ?').all(targetKeyId) as Row[];
    let moved = 0;
    for (const row of rows) {
      const file = this.fileOf(row.id);
      const side = `${file}.rekey`;
      try {
        const plain = await this.open({ ...toRecord(row), expiresMs: Number.MAX_SAFE_INTEGER });
        await pipeline(plain, encryptChunks(row.id, this.keys.fileKey(targetKeyId)), fs.createWriteStream(side, { mode: 0o600 }));
      } catch {
        // A file that is gone or damaged cannot move: its record goes (it could never be served).
        fs.rmSync(side, { force: true });
        await this.discard(row.id);
        continue;
      }
      // Renamed first: killed before the record moves, the next pass re-encrypts from the new header's key.
      fs.renameSync(side, file);
      await this.writer.run((db) => void db.prepare('UPDATE attachments SET key_id = ? WHERE id = ?').run(targetKeyId, row.id));
      moved++;
    }
    return moved;
  }
}
