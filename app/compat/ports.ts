import type { NotificationInput, StoredNotification } from '../domain/notification';
import type { Actor, ApiToken, ApplicationExtra, ApplicationFields, Caller, TokenKind } from './api-tokens';

// The small interfaces the ntfy and Gotify adapters need; daemon.ts passes the implementations
// (ApiTokenService, IngestService, store/TopicHistory, SubscriberHub).

/** Checks a token for one operation (ApiTokenService). */
export interface TokenGate {
  authenticate(secret: string | undefined, kind: TokenKind, topics: string[] | null, caller: Caller): Promise<ApiToken>;
  /** The scope check alone, for a topic known only once the body is read. */
  requireScope(token: ApiToken, kind: TokenKind, topics: string[] | null, caller: Caller): void;
}

/** Creates, lists and revokes tokens (ApiTokenService): Gotify's /client and /application. */
export interface TokenAdmin {
  /** `by` is recorded (the audit's actor; a client created by a client dies with it). */
  create(kind: TokenKind, name: string, topics: string[] | null, by: Actor, app?: ApplicationExtra): Promise<{ token: ApiToken; secret: string }>;
  /** A Gotify application's new settings; undefined when unknown or revoked. */
  updateApplication(id: number, app: ApplicationFields, by: Actor): Promise<ApiToken | undefined>;
  list(): Promise<ApiToken[]>;
  /** Revokes the token and every client created under it. */
  revoke(id: number, by: Actor): Promise<boolean>;
  /** Throws token_forbidden unless `who` may manage Gotify clients (token-rights.ts). */
  requireClientAdmin(who: Actor, caller: Caller): void;
}

/**
 * Accepts a notification (IngestService.receive): counts it received from `source`, maps and
 * validates it with `parse` (a refusal counted as rejected), then stores it or a rule mutes it.
 */
export interface Publish {
  receive(
    source: 'ntfy' | 'gotify',
    parse: () => NotificationInput,
  ): Promise<{ input: NotificationInput; outcome: { notification: StoredNotification; duplicate: boolean } | { muted: string } }>;
}

/** Reads for subscribers, in outbox seq order (Store); a backlog is read a page at a time (backlog-pump.ts). */
export interface SubscriberHistory {
  /** Up to `limit` notifications above `afterSeq` (created at or after `sinceMs`), oldest first. */
  after(afterSeq: number, sinceMs: number, topics: string[] | null, limit: number): Promise<StoredNotification[]>;
  /** Newest first below `beforeSeq`; `tokenId` keeps one publish token's (a Gotify application's). */
  before(beforeSeq: number, topics: string[] | null, limit: number, tokenId?: number | null): Promise<StoredNotification[]>;
  seqOf(id: string): Promise<number | undefined>;
}

/**
 * Gotify's view of the history (Store): what is not dismissed. A Gotify delete dismisses, and a
 * dismissal anywhere (a phone, the desktop, an update replacing it) takes it off Gotify's lists.
 */
export interface GotifyMessages {
  /** Up to `limit` below `beforeSeq`, newest first; `tokenId` keeps one application's. */
  listed(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null): Promise<StoredNotification[]>;
  /** The same selection, public ids and seqs only. */
  listedIds(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null): Promise<{ id: string; seq: number }[]>;
  /** The public id of the listed notification with this Gotify id (seq) within `topics`. */
  listedAt(seq: number, topics: string[] | null): Promise<string | undefined>;
}

/** Dismisses on every phone by public id, as a phone's dismiss does (composition/relay.ts); false when already dismissed. */
export type Dismiss = (id: string) => Promise<boolean>;
