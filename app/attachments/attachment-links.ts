import crypto from 'node:crypto';
import type { Attachment } from '../domain/notification';
import { BeepError } from '../domain/errors';

// Short-lived signed links to stored attachment files. A phone's <img> (and the ntfy app's
// download) cannot send an Authorization header, so the link itself is the credential: an HMAC
// over the file id and an expiry, under a key made at start (links die with the process; a
// notification read again gets a fresh one). The listeners' logs redact `sig=`.

/** The path of the download route (both listeners). */
export const FILE_ROUTE = '/file';

/**
 * Signs and checks attachment links.
 *
 *   const path = links.pathOf(attachment);  // '/file/<id>?exp=1767000000&sig=…'
 *   links.verify(id, exp, sig);             // throws attachment_link_invalid
 */
export class AttachmentLinks {
  constructor(
    private readonly key: Buffer,
    /** ms a link is valid (never past the file's own expiry). */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private sign(id: string, exp: number): string {
    return crypto.createHmac('sha256', this.key).update(`beep-attachment-link:${id}:${exp}`).digest('base64url');
  }

  /** The signed path of a stored file, or null when it has expired (or the attachment is a link). */
  pathOf(a: Attachment): string | null {
    if (!a.file) return null;
    const now = this.now();
    const until = Math.min(now + this.ttlMs, a.expiresMs ?? now + this.ttlMs);
    if (until <= now) return null;
    const exp = Math.ceil(until / 1000);
    return `${FILE_ROUTE}/${a.file}?exp=${exp}&sig=${this.sign(a.file, exp)}`;
  }

  /** Throws attachment_link_invalid unless `sig` signs `id` and `exp` and `exp` is still ahead. */
  verify(id: string, exp: unknown, sig: unknown): void {
    const expiry = typeof exp === 'string' && /^\d{1,12}$/.test(exp) ? Number(exp) : NaN;
    // The signature's text as signed, byte for byte: decoding it first would accept other spellings
    // of the same bytes (characters base64url skips, the last character's spare bits).
    const given = typeof sig === 'string' ? Buffer.from(sig) : Buffer.alloc(0);
    const expected = Buffer.from(this.sign(id, expiry));
    const matches = given.length === expected.length && crypto.timingSafeEqual(given, expected);
    if (!matches || !(expiry * 1000 > this.now())) throw new BeepError('attachment_link_invalid');
  }
}
