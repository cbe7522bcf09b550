import crypto from 'node:crypto';
import { RandomPool } from './random-pool';

// Field encryption at rest: AES-256-GCM under a ring of data keys. Each sealed value names its
// key, and its associated data binds it to one table, column and row, so a value copied to
// another row or column fails to open. Data keys are stored wrapped under the master key.

const PREFIX = 'e1';
const IV_BYTES = 12; // GCM's standard nonce size; random per value
const KEY_BYTES = 32;

/** A data key as stored: its id and its bytes sealed under the master key. */
export interface WrappedKey {
  id: string;
  wrapped: string;
}

/** Seals `plain` under `key` with associated data; output `iv.ciphertext+tag` in base64url. */
function gcmSeal(key: Buffer, plain: Buffer, aad: string, iv: Buffer = crypto.randomBytes(IV_BYTES)): string {
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `${iv.toString('base64url')}.${body.toString('base64url')}`;
}

function gcmOpen(key: Buffer, sealed: string, aad: string): Buffer {
  const [ivText, bodyText] = sealed.split('.');
  const body = Buffer.from(bodyText ?? '', 'base64url');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(ivText ?? '', 'base64url'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
}

/** A fresh data key, wrapped under the master key (associated data: its id). */
export function newDataKey(master: Buffer): WrappedKey {
  const id = crypto.randomBytes(6).toString('base64url');
  return { id, wrapped: gcmSeal(master, crypto.randomBytes(KEY_BYTES), `data-key:${id}`) };
}

/**
 * The key ring in memory.
 *
 *   cipher.load(master, store.dataKeys());
 *   const sealed = cipher.seal('Disk full', 'notifications.title.n-42');
 *   cipher.open(sealed, 'notifications.title.n-42'); // 'Disk full'; another aad throws
 */
export class FieldCipher {
  private readonly keys = new Map<string, Buffer>();
  private current = '';
  /** Nonces for the values sealed here (one per stored row and field). */
  private readonly nonces = new RandomPool();

  /** Unwraps every stored key (a wrong master key or passphrase fails here, loudly). */
  load(master: Buffer, wrapped: WrappedKey[], currentId?: string): void {
    for (const k of wrapped) this.add(master, k);
    this.current = currentId ?? wrapped[wrapped.length - 1]?.id ?? '';
  }

  add(master: Buffer, k: WrappedKey): void {
    try {
      this.keys.set(k.id, gcmOpen(master, k.wrapped, `data-key:${k.id}`));
    } catch {
      throw new Error(`data key ${k.id} cannot be unwrapped: wrong master key or passphrase`);
    }
  }

  use(id: string): void {
    if (!this.keys.has(id)) throw new Error(`unknown data key ${id}`);
    this.current = id;
  }

  drop(id: string): void {
    if (id !== this.current) this.keys.delete(id);
  }

  currentKeyId(): string {
    return this.current;
  }

  seal(plain: string, aad: string): string {
    const key = this.keys.get(this.current);
    if (!key) throw new Error('no data key loaded');
    return `${PREFIX}:${this.current}:${gcmSeal(key, Buffer.from(plain, 'utf8'), aad, this.nonces.bytes(IV_BYTES))}`;
  }

  open(sealed: string, aad: string): string {
    const [prefix, id, rest] = sealed.split(':');
    const key = prefix === PREFIX ? this.keys.get(id) : undefined;
    if (!key || rest === undefined) throw new Error(`a stored value for ${aad} is not sealed with a known key`);
    return gcmOpen(key, rest, aad).toString('utf8');
  }

  /**
   * The attachment-file key of a data key (the current one when `id` is omitted): derived, so
   * the data key itself never seals a file and a file names the data key it needs.
   */
  fileKey(id?: string): { id: string; key: Buffer } {
    const keyId = id ?? this.current;
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`unknown data key ${keyId}`);
    return { id: keyId, key: Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), 'beep attachment files v1', KEY_BYTES)) };
  }

  /** The key id a sealed value names ('' when it is not sealed). */
  keyIdOf(sealed: string): string {
    const [prefix, id] = sealed.split(':');
    return prefix === PREFIX ? id : '';
  }
}
