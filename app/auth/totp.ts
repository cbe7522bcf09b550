import crypto from 'node:crypto';

// Time-based one-time passwords (RFC 6238, HMAC-SHA1, 30 s steps, 6 digits) for the optional
// second factor of the dashboard; pure, with the time passed in.

const STEP_SEC = 30;
const DIGITS = 6;
/** Steps accepted either side of now: tolerates a phone clock 30 s off. */
const WINDOW = 1;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** bytes of a new secret: 160 bits, RFC 4226's recommendation. */
const SECRET_BYTES = 20;

export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new Error('the TOTP secret is not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code for one time step (RFC 4226 dynamic truncation). */
export function totpAt(secret: Buffer, timeMs: number, digits = DIGITS): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(totpStepAt(timeMs)));
  const mac = crypto.createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return code.toString().padStart(digits, '0');
}

/** The time step (RFC 6238's counter T) that `timeMs` falls in. */
export function totpStepAt(timeMs: number): number {
  return Math.floor(timeMs / 1000 / STEP_SEC);
}

/**
 * The step whose code `code` is, among now ± one step, or null; every candidate is compared
 * in constant time. A caller that lets each step log in once (totp-steps.ts) stops replays.
 *
 *   matchTotpStep(base32Secret, '287082', Date.now()) // 58_712_345 or null
 */
export function matchTotpStep(base32Secret: string, code: unknown, nowMs: number): number | null {
  if (typeof code !== 'string' || !/^\d{6}$/.test(code)) return null;
  const secret = base32Decode(base32Secret);
  let matched: number | null = null;
  for (let offset = -WINDOW; offset <= WINDOW; offset++) {
    const timeMs = nowMs + offset * STEP_SEC * 1000;
    const expected = Buffer.from(totpAt(secret, timeMs));
    if (crypto.timingSafeEqual(expected, Buffer.from(code))) matched = totpStepAt(timeMs);
  }
  return matched;
}

/**
 * Checks a code against now ± one step (replays are the caller's: see matchTotpStep).
 *
 *   verifyTotp(base32Secret, '287082', Date.now()) // true or false
 */
export function verifyTotp(base32Secret: string, code: unknown, nowMs: number): boolean {
  return matchTotpStep(base32Secret, code, nowMs) !== null;
}

/** A new secret (base32) and the otpauth:// URL authenticator apps scan. */
export function newTotpSecret(label = 'Beep'): { secret: string; url: string } {
  const secret = base32Encode(crypto.randomBytes(SECRET_BYTES));
  const url = `otpauth://totp/${encodeURIComponent(label)}?secret=${secret}&issuer=Beep&algorithm=SHA1&digits=${DIGITS}&period=${STEP_SEC}`;
  return { secret, url };
}
