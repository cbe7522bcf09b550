import crypto from 'node:crypto';

// Random bytes from the OS a block at a time: an id or a nonce per request is a slice of the
// block, not a call into the OS's random source each (one such call per request showed as 2 %
// of ingest's CPU). The bytes are the same CSPRNG output; slices never overlap and are never
// handed out twice.

/** Bytes drawn per refill: 4 KiB serves 341 twelve-byte nonces. */
const BLOCK_BYTES = 4096;

/**
 * A block of random bytes handed out in disjoint slices.
 *
 *   const pool = new RandomPool();
 *   const iv = pool.bytes(12);           // a fresh GCM nonce
 *   const id = pool.text(12, 'base64url'); // a notification id
 */
export class RandomPool {
  private block = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly blockBytes = BLOCK_BYTES) {}

  /** `n` fresh random bytes (a view of the block, which is never written again). */
  bytes(n: number): Buffer {
    const start = this.take(n);
    return start < 0 ? crypto.randomBytes(n) : this.block.subarray(start, start + n);
  }

  /** `n` fresh random bytes as text. */
  text(n: number, encoding: 'base64url' | 'hex'): string {
    const start = this.take(n);
    return start < 0 ? crypto.randomBytes(n).toString(encoding) : this.block.toString(encoding, start, start + n);
  }

  /** Where `n` unused bytes start in the block (refilled when short); -1 when `n` exceeds a block. */
  private take(n: number): number {
    if (n > this.blockBytes) return -1;
    if (this.used + n > this.block.length) {
      this.block = crypto.randomBytes(this.blockBytes);
      this.used = 0;
    }
    this.used += n;
    return this.used - n;
  }
}
