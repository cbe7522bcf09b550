import crypto from 'node:crypto';
import { BeepError } from '../domain/errors';
import type { FailureBudget } from '../auth/failure-limiter';
import type { AuditSink } from './audit-sink';
import type { RateLimiter } from '../auth/rate-limiter';
import { mayManageClients } from './token-rights';

// API tokens for ntfy and Gotify clients: 256-bit random secrets shown once, stored as SHA-256,
// of one kind (publish = ntfy publisher / Gotify application; subscribe = ntfy subscriber /
// Gotify client), optionally scoped to topics. Every use is checked, rate limited and audited.

export type TokenKind = 'publish' | 'subscribe';

/** How a token came to be (token-rights.ts): by the admin, the Gotify Basic login, or a Gotify client. */
export type TokenOrigin = 'admin' | 'gotify_login' | 'gotify_client';

export interface ApiToken {
  id: number;
  kind: TokenKind;
  name: string;
  topics: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  origin: TokenOrigin;
  /** The client that created it (origin 'gotify_client'): it is revoked with that client. */
  parentId: number | null;
  /** A Gotify application's description, when it was made or renamed through Gotify's API. */
  description: string | null;
  /** The Gotify priority of its messages that give none (set through Gotify's API); null = Beep's default. */
  defaultPriority: number | null;
}

/** A Gotify application's settings, as Gotify's API sets them. */
export interface ApplicationFields {
  name: string;
  description: string;
  defaultPriority: number | null;
}

/** A Gotify application made through Gotify's API: its settings, and its own topic, named from its id. */
export interface ApplicationExtra extends Omit<ApplicationFields, 'name'> {
  topicOf: (id: number) => string;
}

/** Who creates or revokes a token: the admin (beep token, the admin API), the Gotify Basic login (as the admin), or a token. */
export type Actor = 'admin' | 'gotify_login' | ApiToken;

/** The audit log's name for an actor: `admin` or `token:<id>`. */
export function actorName(actor: Actor): string {
  return typeof actor === 'string' ? 'admin' : `token:${actor.id}`;
}

/** What the token service needs from storage; store/ implements it. */
export interface ApiTokenStore {
  /** undefined when the parent has been revoked meanwhile. */
  insertApiToken(hash: string, kind: TokenKind, name: string, topics: string[] | null, by: { origin: TokenOrigin; parentId: number | null }, app?: ApplicationExtra): Promise<ApiToken | undefined>;
  /** A Gotify application's new settings; undefined when unknown or revoked. */
  updateApplication(id: number, app: ApplicationFields): Promise<ApiToken | undefined>;
  apiTokenByHash(hash: string): Promise<ApiToken | undefined>;
  listApiTokens(): Promise<ApiToken[]>;
  /** The ids revoked: the token, then every client created under it; empty when unknown or already revoked. */
  revokeApiToken(id: number): Promise<number[]>;
  touchApiToken(id: number, atMs: number): Promise<void>;
}

/** bytes of randomness in a token: 256 bits. */
const TOKEN_BYTES = 32;
/** Every token starts with this, so a leaked one is recognisable (secret scanners). */
export const TOKEN_PREFIX = 'bk_';
/** ms between two writes of a token's last use: a hot publisher costs no write per message. */
const TOUCH_EVERY_MS = 60_000;

function hash(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/** Who is asking, for the audit trail and the failure limiter. */
export interface Caller {
  ip: string;
  protocol: 'ntfy' | 'gotify';
  listener: string;
}

/**
 * Creates, lists, revokes and checks API tokens.
 *
 *   const { token, secret } = await tokens.create('publish', 'backups', ['alerts']);
 *   const t = await tokens.authenticate(secret, 'publish', ['alerts'], caller); // throws when not allowed
 */
export class ApiTokenService {
  private readonly touchedAt = new Map<number, number>();
  private readonly revokedListeners: ((id: number) => void)[] = [];

  constructor(
    private readonly store: ApiTokenStore,
    private readonly failures: FailureBudget,
    private readonly requests: RateLimiter,
    private readonly audit: AuditSink,
    private readonly now: () => number = Date.now,
    /** A request refused by a limit: 'api_token' (the token's budget) or 'api_token_failures' (the IP's failures). */
    private readonly onLimited: (scope: 'api_token' | 'api_token_failures') => void = () => undefined,
  ) {}

  /** `by` is recorded: a token created by a client token dies with it (revoke cascades); `app` makes a Gotify application. */
  async create(kind: TokenKind, name: string, topics: string[] | null, by: Actor = 'admin', app?: ApplicationExtra): Promise<{ token: ApiToken; secret: string }> {
    const secret = TOKEN_PREFIX + crypto.randomBytes(TOKEN_BYTES).toString('base64url');
    const origin = typeof by === 'string' ? { origin: by, parentId: null } : { origin: 'gotify_client' as const, parentId: by.id };
    const token = await this.store.insertApiToken(hash(secret), kind, name, topics, origin, app);
    if (!token) throw new BeepError('invalid_token', 'The token is unknown or revoked.');
    this.audit.record('api_token_created', { tokenId: token.id, kind, name, topics: token.topics, ...origin }, actorName(by));
    return { token, secret };
  }

  /** A Gotify application's new name, description and default priority; undefined when unknown or revoked. */
  async updateApplication(id: number, app: ApplicationFields, by: Actor): Promise<ApiToken | undefined> {
    const token = await this.store.updateApplication(id, app);
    if (token) this.audit.record('api_token_renamed', { tokenId: id, name: app.name }, actorName(by));
    return token;
  }

  list(): Promise<ApiToken[]> {
    return this.store.listApiTokens();
  }

  /**
   * Revokes at once, with every client it created: the next request with any of them is
   * refused and their open streams are closed. False when unknown or already revoked.
   */
  async revoke(id: number, by: Actor = 'admin'): Promise<boolean> {
    const revoked = await this.store.revokeApiToken(id);
    for (const tokenId of revoked) {
      this.audit.record('api_token_revoked', { tokenId, ...(tokenId === id ? {} : { with: id }) }, actorName(by));
      for (const listener of this.revokedListeners) listener(tokenId);
    }
    return revoked.length > 0;
  }

  /** Called with the id of each revoked token (live streams close). */
  onRevoked(listener: (id: number) => void): void {
    this.revokedListeners.push(listener);
  }

  /**
   * The token behind `secret` if it may do `kind` on every one of `topics` (null = it needs an
   * unscoped token, as Gotify's all-topics stream does; [] = any token of the kind).
   */
  async authenticate(secret: string | undefined, kind: TokenKind, topics: string[] | null, caller: Caller): Promise<ApiToken> {
    // A point is reserved before the token is looked up and given back when it is known.
    const attempt = await this.failures.reserve(caller.ip).catch((error: unknown) => {
      if (error instanceof BeepError && error.code === 'rate_limited') this.onLimited('api_token_failures');
      throw error;
    });
    if (!secret) {
      await attempt.refund();
      this.audit.record('api_token_missing', { ...caller, kind });
      throw new BeepError('unauthenticated', 'Send an API token (beep token create).');
    }
    const token = secret.length <= 256 ? await this.store.apiTokenByHash(hash(secret)) : undefined;
    if (!token) {
      this.audit.record('api_token_refused', { ...caller, kind, reason: 'unknown_or_revoked' });
      throw new BeepError('invalid_token', 'The token is unknown or revoked.');
    }
    await attempt.refund();
    this.requireScope(token, kind, topics, caller);
    const decision = await this.requests.consume(`token:${token.id}`);
    if (!decision.allowed) {
      this.onLimited('api_token');
      throw new BeepError('rate_limited', undefined, { retryAfter: decision.resetSec });
    }
    this.audit.record('api_token_used', { ...caller, tokenId: token.id, kind, topics });
    this.touch(token.id);
    return token;
  }

  /** Throws token_forbidden (audited) unless `who` may manage Gotify clients (token-rights.ts). */
  requireClientAdmin(who: Actor, caller: Caller): void {
    if (mayManageClients(who)) return;
    const token = who as ApiToken;
    this.audit.record('api_token_refused', { ...caller, tokenId: token.id, kind: token.kind, reason: 'rights' });
    throw new BeepError('token_forbidden', "Only the Gotify app's login (user admin, the dashboard password) and the clients it created may manage clients.");
  }

  /**
   * Throws token_forbidden (audited) unless `token` may do `kind` on every one of `topics`: for a
   * topic only known once the body is read (ntfy JSON publishing), after `authenticate`.
   */
  requireScope(token: ApiToken, kind: TokenKind, topics: string[] | null, caller: Caller): void {
    const outside = token.topics === null ? [] : topics === null ? ['*'] : topics.filter((t) => !token.topics!.includes(t));
    if (token.kind === kind && outside.length === 0) return;
    this.audit.record('api_token_refused', { ...caller, tokenId: token.id, kind, topics, reason: token.kind !== kind ? 'kind' : 'topic' });
    throw new BeepError(
      'token_forbidden',
      token.kind !== kind ? `This is a ${token.kind} token; it cannot ${kind}.` : `This token may not ${kind} on ${outside.join(', ')}.`,
    );
  }

  private touch(id: number): void {
    const now = this.now();
    if (now - (this.touchedAt.get(id) ?? 0) < TOUCH_EVERY_MS) return;
    this.touchedAt.set(id, now);
    void this.store.touchApiToken(id, now).catch(() => this.touchedAt.delete(id));
  }
}
