import crypto from 'node:crypto';
import { SessionClosers } from './session-closers';

// Dashboard login: `beep dashboard` (holding the admin token) asks for a one-time login nonce;
// the browser redeems it once for a session cookie (HttpOnly, SameSite=Strict) plus a CSRF
// token that every cookie-authenticated write must echo. The admin token never enters a URL.
// A session that ends (logout, a password change, expiry, eviction) tells what hangs on it
// (the live feed) to close. The lookups answer as promises, as a shared store ([cluster]) would;
// what hangs on a session (onEnd) stays with the process that holds the stream.

export interface DashboardSession {
  csrfToken: string;
  expiresAt: number;
}

export interface DashboardSessionOptions {
  loginTtlSec: number;
  sessionIdleSec: number;
  now?: () => number;
}

/** Outstanding login links and live sessions kept; the oldest go first (bounded memory; the cluster's store keeps the same bounds). */
export const MAX_NONCES = 16;
export const MAX_SESSIONS = 16;

/** How a login nonce or session id is stored: its SHA-256, never the secret itself (here and in Redis). */
export function hash(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/** A new login nonce or session id: 256 random bits. */
export function token(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/**
 * Holds login nonces and sessions in memory, stored by hash (a restart logs everyone out).
 *
 *   const { nonce } = await sessions.createNonce();      // admin API, bearer only
 *   const s = await sessions.redeem(nonce);              // GET /dashboard/login?nonce=…
 *   (await sessions.get(cookieValue))?.csrfToken
 *   const stop = sessions.onEnd(cookieValue, () => res.end()); // the feed closes with the session
 */
export class DashboardSessions {
  private readonly nonces = new Map<string, number>();
  private readonly sessions = new Map<string, DashboardSession>();
  /** Session key → what to close when it ends. */
  private readonly closers = new SessionClosers();
  private readonly now: () => number;

  constructor(private readonly options: DashboardSessionOptions) {
    this.now = options.now ?? Date.now;
  }

  async createNonce(): Promise<{ nonce: string; expiresAt: string }> {
    const nonce = token();
    const expires = this.now() + this.options.loginTtlSec * 1000;
    this.nonces.set(hash(nonce), expires);
    trim(this.nonces, MAX_NONCES);
    return { nonce, expiresAt: new Date(expires).toISOString() };
  }

  /** Burns the nonce; a session id and its CSRF token, or null when used, unknown or expired. */
  async redeem(nonce: string): Promise<{ sessionId: string; session: DashboardSession } | null> {
    const key = hash(nonce);
    const expires = this.nonces.get(key);
    this.nonces.delete(key);
    if (expires === undefined || expires <= this.now()) return null;
    return this.openNow();
  }

  /** A new session (after a redeemed link or a password login): its id for the cookie. */
  async open(): Promise<{ sessionId: string; session: DashboardSession }> {
    return this.openNow();
  }

  private openNow(): { sessionId: string; session: DashboardSession } {
    const sessionId = token();
    const session = { csrfToken: token(), expiresAt: this.now() + this.options.sessionIdleSec * 1000 };
    this.sessions.set(hash(sessionId), session);
    while (this.sessions.size > MAX_SESSIONS) this.drop(this.sessions.keys().next().value as string);
    return { sessionId, session };
  }

  /** The live session behind a cookie value (its idle timer restarts), or undefined. */
  async get(sessionId: string | undefined): Promise<DashboardSession | undefined> {
    if (!sessionId) return undefined;
    const key = hash(sessionId);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.drop(key);
      return undefined;
    }
    session.expiresAt = this.now() + this.options.sessionIdleSec * 1000;
    return session;
  }

  /** Logout: the session ends and what hangs on it closes. */
  async end(sessionId: string | undefined): Promise<void> {
    if (sessionId) this.drop(hash(sessionId));
  }

  /** Every session ends (the password changed): each browser logs in again. */
  async endAll(): Promise<void> {
    for (const key of [...this.sessions.keys()]) this.drop(key);
  }

  /** Runs `close` when the live session behind `sessionId` ends; returns the unsubscribe (undefined: no such session). */
  onEnd(sessionId: string | undefined, close: () => void): (() => void) | undefined {
    const key = sessionId ? hash(sessionId) : undefined;
    if (!key || !this.sessions.has(key)) return undefined;
    return this.closers.add(key, close);
  }

  get maxAgeSec(): number {
    return this.options.sessionIdleSec;
  }

  private drop(key: string): void {
    this.sessions.delete(key);
    this.closers.end(key);
  }
}

function trim<V>(map: Map<string, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as string);
}
