import type { NotificationInput, StoredNotification } from '../domain/notification';
import type { ApiToken, Caller, TokenKind } from './api-tokens';

// The small interfaces the ntfy and Gotify adapters need; daemon.ts passes the implementations
// (ApiTokenService, IngestService, Store.topicHistory + Store.seqOf, SubscriberHub).

/** Checks a token for one operation (ApiTokenService). */
export interface TokenGate {
  authenticate(secret: string | undefined, kind: TokenKind, topics: string[] | null, caller: Caller): Promise<ApiToken>;
  /** The scope check alone, for a topic known only once the body is read. */
  requireScope(token: ApiToken, kind: TokenKind, topics: string[] | null, caller: Caller): void;
}

/** Creates, lists and revokes tokens (ApiTokenService): Gotify's /client and /application. */
export interface TokenAdmin {
  create(kind: TokenKind, name: string, topics: string[] | null): Promise<{ token: ApiToken; secret: string }>;
  list(): ApiToken[];
  revoke(id: number): Promise<boolean>;
}

/** Accepts a validated notification (IngestService): stored, or muted by a rule. */
export interface Publish {
  accept(input: NotificationInput): Promise<{ notification: StoredNotification; duplicate: boolean } | { muted: string }>;
}

/** Reads for subscribers, in outbox seq order (Store); a backlog is read a page at a time (backlog-pump.ts). */
export interface SubscriberHistory {
  /** Up to `limit` notifications above `afterSeq` (created at or after `sinceMs`), oldest first. */
  after(afterSeq: number, sinceMs: number, topics: string[] | null, limit: number): Promise<StoredNotification[]>;
  /** Newest first below `beforeSeq`; `tokenId` keeps one publish token's (a Gotify application's). */
  before(beforeSeq: number, topics: string[] | null, limit: number, tokenId?: number | null): Promise<StoredNotification[]>;
  seqOf(id: string): number | undefined;
}
