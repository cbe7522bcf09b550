import crypto from 'node:crypto';
import { BeepError } from '../domain/errors';
import type { AttemptLimiter } from '../auth/failure-limiter';
import type { AuditSink } from './audit-sink';
import type { RateLimiter } from '../auth/rate-limiter';

// API tokens for ntfy and Gotify clients: 256-bit random secrets shown once, stored as SHA-256,
// of one kind (publish = ntfy publisher / Gotify application; subscribe = ntfy subscriber /
// Gotify client), optionally scoped to topics. Every use is checked, rate limited and audited.

export type TokenKind = 'publish' | 'subscribe';

export interface ApiToken {
  id: number;
  kind: TokenKind;
  name: string;
  topics: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
}

/** What the token service needs from storage; store/ implements it. */
export interface ApiTokenStore {
  insertApiToken(hash: string, kind: TokenKind, name: string, topics: string[] | null): Promise<ApiToken>;
  apiTokenByHash(hash: string): ApiToken | undefined;
  listApiTokens(): ApiToken[];
  revokeApiToken(id: number): Promise<boolean>;
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
    private readonly failures: AttemptLimiter,
    private readonly requests: RateLimiter,
    private readonly audit: AuditSink,
    private readonly now: () => number = Date.now,
    /** A request refused by a limit: 'api_token' (the token's budget) or 'api_token_failures' (the IP's failures). */
    private readonly onLimited: (scope: 'api_token' | 'api_token_failures') => void = () => undefined,
  ) {}

  async create(kind: TokenKind, name: string, topics: string[] | null): Promise<{ token: ApiToken; secret: string }> {
    const secret = TOKEN_PREFIX + crypto.randomBytes(TOKEN_BYTES).toString('base64url');
    const token = await this.store.insertApiToken(hash(secret), kind, name, topics);
    this.audit.record('api_token_created', { tokenId: token.id, kind, name, topics });
    return { token, secret };
  }

  list(): ApiToken[] {
    return this.store.listApiTokens();
  }

  /** Revokes at once: the next request with it is refused and its open streams are closed. */
  async revoke(id: number): Promise<boolean> {
    const revoked = await this.store.revokeApiToken(id);
    if (revoked) {
      this.audit.record('api_token_revoked', { tokenId: id });
      for (const listener of this.revokedListeners) listener(id);
    }
    return revoked;
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
    await this.failures.check(caller.ip).catch((error: unknown) => {
      if (error instanceof BeepError && error.code === 'rate_limited') this.onLimited('api_token_failures');
      throw error;
    });
    if (!secret) {
      this.audit.record('api_token_missing', { ...caller, kind });
      throw new BeepError('unauthenticated', 'Send an API token (beep token create).');
    }
    const token = secret.length <= 256 ? this.store.apiTokenByHash(hash(secret)) : undefined;
    if (!token) {
      await this.failures.fail(caller.ip);
      this.audit.record('api_token_refused', { ...caller, kind, reason: 'unknown_or_revoked' });
      throw new BeepError('invalid_token', 'The token is unknown or revoked.');
    }
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
