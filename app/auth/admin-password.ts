import { BeepError } from '../domain/errors';

// The optional dashboard password: a policy that refuses what bcrypt would silently mangle
// (more than 72 bytes is truncated, a NUL ends the string in C), and bcrypt hashing on libuv's
// thread pool (bcrypt's async API), never on the event loop. The dashboard branch plugs these
// into its login; `beep admin password set` stores the hash. bcrypt (a native module) is
// loaded at the first hash or check, not at start.

/** bcrypt work factor: ~250 ms per hash on a laptop, the usual interactive-login budget. */
export const BCRYPT_COST = 12;
/** bcrypt reads at most 72 bytes; anything longer would be cut without notice. */
export const MAX_PASSWORD_BYTES = 72;
/** Characters at least: the password guards the whole relay from anyone on this PC. */
export const MIN_PASSWORD_CHARS = 12;

/** Throws BeepError('password_invalid') with the reason; returns the password unchanged. */
export function checkPasswordPolicy(password: unknown): string {
  if (typeof password !== 'string') throw new BeepError('password_invalid', 'The password must be a string.');
  if (password.includes('\0')) throw new BeepError('password_invalid', 'The password must not contain a NUL character.');
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > MAX_PASSWORD_BYTES) {
    throw new BeepError(
      'password_invalid',
      `The password is ${bytes} bytes in UTF-8; bcrypt uses at most ${MAX_PASSWORD_BYTES}, so it is refused rather than silently truncated.`,
    );
  }
  if ([...password].length < MIN_PASSWORD_CHARS) {
    throw new BeepError('password_invalid', `The password must have at least ${MIN_PASSWORD_CHARS} characters.`);
  }
  return password;
}

/**
 * Hashes an admin password after checking the policy.
 *
 *   const hash = await hashAdminPassword(input);       // throws password_invalid
 *   const ok = await verifyAdminPassword(attempt, hash);
 */
export async function hashAdminPassword(password: unknown, cost = BCRYPT_COST): Promise<string> {
  const checked = checkPasswordPolicy(password);
  const { default: bcrypt } = await import('bcrypt');
  return bcrypt.hash(checked, cost);
}

/** False for a wrong password and for one the policy refuses (it could never have been set). */
export async function verifyAdminPassword(password: unknown, hash: string): Promise<boolean> {
  try {
    checkPasswordPolicy(password);
  } catch {
    return false;
  }
  const { default: bcrypt } = await import('bcrypt');
  return bcrypt.compare(password as string, hash);
}
