import { BeepError } from '../../domain/errors';
import type { FailureBudget } from '../../auth/failure-limiter';
import type { Caller } from '../api-tokens';
import type { AuditSink } from '../audit-sink';

// The Gotify app signs in with a user name and password (HTTP Basic) to create its client
// token. Beep has one user: "admin", whose password is the dashboard password
// (`beep admin password set`). Failures spend the same per-address budget as bad API tokens
// (a point reserved before bcrypt runs, given back on success) and are audited. A password
// guarded by TOTP is refused before it is looked at, since the app cannot send a one-time
// code: the answer is the same for a right and a wrong password, no bcrypt, no point spent.

/** The one Gotify user name Beep knows. */
export const GOTIFY_USER = 'admin';

/** What the login needs: the stored credentials and bcrypt's check (off the event loop). */
export interface LoginDeps {
  credentials: () => Promise<{ passwordHash: string; totpSecret: string | null } | undefined>;
  verify: (password: string, hash: string) => Promise<boolean>;
  failures: FailureBudget;
  audit: AuditSink;
  /** A login refused because the IP spent its failure budget (metrics). */
  onLimited: () => void;
}

/** The user and password of an `Authorization: Basic` header; undefined for any other scheme. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { user: decoded, password: '' } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Checks the Gotify app's Basic login; throws a catalog error when it is refused.
 *
 *   await login.check(req.headers.authorization, caller); // admin from here on
 */
export class GotifyLogin {
  constructor(private readonly deps: LoginDeps) {}

  async check(header: string | undefined, caller: Caller): Promise<void> {
    const { audit } = this.deps;
    const basic = basicCredentials(header);
    if (!basic) throw new BeepError('unauthenticated', `Log in as "${GOTIFY_USER}" with the dashboard password (HTTP Basic), or send a client token.`);
    const stored = await this.deps.credentials();
    if (!stored) {
      audit.record('gotify_login_refused', { ...caller, reason: 'no_password' });
      throw new BeepError('gotify_password_unset');
    }
    // Before the password is looked at: the answer must not tell a right one from a wrong one.
    if (stored.totpSecret !== null) {
      audit.record('gotify_login_refused', { ...caller, reason: 'totp' });
      throw new BeepError('gotify_totp_unsupported');
    }
    const attempt = await this.deps.failures.reserve(caller.ip).catch((error: unknown) => {
      if (error instanceof BeepError && error.code === 'rate_limited') this.deps.onLimited();
      throw error;
    });
    // bcrypt runs whatever the user name, so a wrong name takes as long as a wrong password.
    const ok = await this.deps.verify(basic.password, stored.passwordHash).catch(async (error: unknown) => {
      await attempt.refund(); // not evaluated
      throw error;
    });
    if (!ok || basic.user !== GOTIFY_USER) {
      audit.record('gotify_login_refused', { ...caller, reason: basic.user === GOTIFY_USER ? 'wrong_password' : 'unknown_user' });
      throw new BeepError('invalid_credentials', `The user name or password is wrong (the user is "${GOTIFY_USER}", the password the dashboard's).`);
    }
    await attempt.refund();
    audit.record('gotify_login', { ...caller });
  }
}
