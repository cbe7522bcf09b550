import type Redis from 'ioredis';
import { SessionClosers } from '../dashboard/session-closers';
import { hash, MAX_NONCES, MAX_SESSIONS, token, type DashboardSession, type DashboardSessionOptions } from '../dashboard/dashboard-sessions';
import type { SessionLookup } from '../http/admin-auth';
import type { DashboardSessionPort } from '../http/routes/dashboard-routes';
import { CREATE_NONCE, END_ALL, END_SESSION, OPEN_SESSION, REDEEM_NONCE, TOUCH_SESSION } from './dashboard-session-scripts';
import { committed } from './redis-commit';
import type { RedisKeys } from './redis-keys';

// Dashboard login nonces and sessions on Redis (dashboard/dashboard-sessions.ts keeps them in one
// process's memory): a login link redeemed on one node, or a password login made there, gives a
// cookie every node accepts; logout or a password change on any node ends the session
// everywhere. Nonces and sessions are stored by hash, with the same caps (the oldest go first)
// and idle expiry by Redis TTL. What hangs on a session (a live feed) stays with the node that
// holds the stream: a session ended here closes it here and is announced (`onEnded`) so other
// nodes close theirs (`closeEnded`); `sweep` closes what hangs on sessions gone from Redis (idle
// expiry, or an announcement missed), so a lost message cannot keep a feed open past its session.

export interface RedisDashboardSessionOptions extends DashboardSessionOptions {
  /** Told the hashes of the sessions that ended through this node (logout, password change, eviction): other nodes close theirs. */
  onEnded?: (sessionKeys: string[]) => void;
}

/**
 * Dashboard sessions shared by every node.
 *
 *   const sessions = new RedisDashboardSessions(redis, keys, { loginTtlSec, sessionIdleSec, onEnded: (k) => control.emit('sessions-ended', k) });
 *   control.on('sessions-ended', (k) => sessions.closeEnded(k));  // another node ended them
 *   setInterval(() => void sessions.sweep(), 30_000);              // idle expiry closes feeds too
 */
export class RedisDashboardSessions implements DashboardSessionPort, SessionLookup {
  /** Session hash → what to close here when it ends. */
  private readonly closers = new SessionClosers();
  /** Sessions this node saw alive (opened or looked up here): what onEnd may hang on. */
  private readonly seen = new Set<string>();
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: RedisDashboardSessionOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async createNonce(): Promise<{ nonce: string; expiresAt: string }> {
    const nonce = token();
    const now = this.now();
    const ttlMs = this.options.loginTtlSec * 1000;
    await committed(CREATE_NONCE.run(this.redis, [this.keys.prefix, hash(nonce), now, ttlMs, MAX_NONCES]));
    return { nonce, expiresAt: new Date(now + ttlMs).toISOString() };
  }

  /** Burns the nonce (once across the cluster); a session id and its CSRF token, or null when used, unknown or expired. */
  async redeem(nonce: string): Promise<{ sessionId: string; session: DashboardSession } | null> {
    const sessionId = token();
    const session = this.fresh();
    const [ok, ...ended] = (await committed(REDEEM_NONCE.run(this.redis, [this.keys.prefix, hash(nonce), hash(sessionId), session.csrfToken, this.now(), this.idleMs, MAX_SESSIONS]))) as [number, ...string[]];
    if (ok !== 1) return null;
    this.opened(hash(sessionId), ended);
    return { sessionId, session };
  }

  /** A new session (after a password login): its id for the cookie. */
  async open(): Promise<{ sessionId: string; session: DashboardSession }> {
    const sessionId = token();
    const session = this.fresh();
    const ended = (await committed(OPEN_SESSION.run(this.redis, [this.keys.prefix, hash(sessionId), session.csrfToken, this.now(), this.idleMs, MAX_SESSIONS]))) as string[];
    this.opened(hash(sessionId), ended);
    return { sessionId, session };
  }

  /** The live session behind a cookie value (its idle timer restarts), or undefined (what hangs on it here closes). */
  async get(sessionId: string | undefined): Promise<DashboardSession | undefined> {
    if (!sessionId) return undefined;
    const key = hash(sessionId);
    const reply = (await TOUCH_SESSION.run(this.redis, [this.keys.prefix, key, this.now(), this.idleMs])) as [string, string] | null;
    if (!reply) {
      this.closeHere(key);
      return undefined;
    }
    this.seen.add(key);
    return { csrfToken: reply[0], expiresAt: Number(reply[1]) };
  }

  /** Logout: the session ends on every node. */
  async end(sessionId: string | undefined): Promise<void> {
    if (!sessionId) return;
    const key = hash(sessionId);
    await committed(END_SESSION.run(this.redis, [this.keys.prefix, key]));
    this.ended([key]);
  }

  /** Every session ends (the password changed): each browser logs in again, on every node. */
  async endAll(): Promise<void> {
    const all = (await committed(END_ALL.run(this.redis, [this.keys.prefix]))) as string[];
    this.ended([...new Set([...all, ...this.closers.keys()])]);
  }

  /** Runs `close` when the session behind `sessionId` ends; returns the unsubscribe (undefined: not a session seen alive here). */
  onEnd(sessionId: string | undefined, close: () => void): (() => void) | undefined {
    const key = sessionId ? hash(sessionId) : undefined;
    if (!key || !this.seen.has(key)) return undefined;
    return this.closers.add(key, close);
  }

  /** Another node ended these sessions (its onEnded, heard here): close what hangs on them here. */
  closeEnded(sessionKeys: string[]): void {
    for (const key of sessionKeys) this.closeHere(key);
  }

  /** Closes what hangs here on sessions no longer in Redis (expired while idle, or an announcement missed). */
  async sweep(): Promise<void> {
    const held = [...this.seen];
    if (held.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const key of held) pipe.exists(this.keys.dashboardSession(key));
    const replies = (await pipe.exec()) ?? [];
    held.forEach((key, i) => {
      const [error, exists] = replies[i] as [Error | null, number];
      if (!error && exists === 0) this.closeHere(key);
    });
  }

  get maxAgeSec(): number {
    return this.options.sessionIdleSec;
  }

  private get idleMs(): number {
    return this.options.sessionIdleSec * 1000;
  }

  private fresh(): DashboardSession {
    return { csrfToken: token(), expiresAt: this.now() + this.idleMs };
  }

  private opened(key: string, ended: string[]): void {
    this.seen.add(key);
    if (ended.length > 0) this.ended(ended);
  }

  /** Sessions that ended through this node: close here, and tell the others. */
  private ended(sessionKeys: string[]): void {
    for (const key of sessionKeys) this.closeHere(key);
    if (sessionKeys.length > 0) this.options.onEnded?.(sessionKeys);
  }

  private closeHere(key: string): void {
    this.seen.delete(key);
    this.closers.end(key);
  }
}
