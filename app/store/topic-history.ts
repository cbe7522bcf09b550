import type { GotifyMessages, SubscriberHistory } from '../compat/ports';
import type { StoredNotification } from '../domain/notification';
import type { ReadPool } from './read-pool';
import { NOTIFICATION_COLUMNS, toNotification, type FieldSealer, type NotificationRow } from './rows';
import { NOT_UNCACHED } from './uncached-rows';

// Reads for ntfy and Gotify subscribers, in outbox seq order, filtered by topic. They run on the
// read pool (a `since=all` can be large). `topics` null means every notification, untopiced
// ones included (Gotify clients and unscoped tokens). Rows are opened with the field sealer
// like every other read: title, body, app and tags are stored sealed (never in plaintext).

/** SQL fragment: topic filter; the parameter is a JSON array or null. */
const TOPIC_FILTER = '(? IS NULL OR topic IN (SELECT value FROM json_each(?)))';

/** SQL fragment: one publish token's (a Gotify application's) or any; the parameter is the id or null. */
const TOKEN_FILTER = '(? IS NULL OR token_id = ?)';

/** The subscribers' history and Gotify's listing of what is not dismissed (compat/ports.ts declares them). */
export class TopicHistory implements SubscriberHistory, GotifyMessages {
  constructor(
    private readonly pool: ReadPool,
    private readonly sealer: FieldSealer,
    /** The outbox seq of a public id, read on the main connection (an index probe). */
    private readonly ids: { seqOf(id: string): number | undefined },
  ) {}

  /** The outbox seq of a public id (ntfy since=<id>); undefined when unknown or pruned. */
  async seqOf(id: string): Promise<number | undefined> {
    return this.ids.seqOf(id);
  }

  /** Notifications above `afterSeq`, created at or after `sinceMs`, oldest first. */
  async after(afterSeq: number, sinceMs: number, topics: string[] | null, limit: number): Promise<StoredNotification[]> {
    const json = topics ? JSON.stringify(topics) : null;
    const rows = await this.pool.all<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE seq > ? AND created_ms >= ? AND ${TOPIC_FILTER} AND ${NOT_UNCACHED}
       ORDER BY seq LIMIT ?`,
      [afterSeq, sinceMs, json, json, limit],
    );
    return rows.map((r) => toNotification(r, this.sealer));
  }

  /** Up to `limit` notifications below `beforeSeq`, newest first (Gotify paging); `tokenId` keeps one publisher's. */
  async before(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null = null): Promise<StoredNotification[]> {
    const json = topics ? JSON.stringify(topics) : null;
    const rows = await this.pool.all<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE seq < ? AND ${TOPIC_FILTER} AND (? IS NULL OR token_id = ?) AND ${NOT_UNCACHED}
       ORDER BY seq DESC LIMIT ?`,
      [beforeSeq, json, json, tokenId, tokenId, limit],
    );
    return rows.map((r) => toNotification(r, this.sealer));
  }

  /** Up to `limit` undismissed notifications below `beforeSeq`, newest first (Gotify's GET /message). */
  async listed(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null): Promise<StoredNotification[]> {
    const json = topics ? JSON.stringify(topics) : null;
    const rows = await this.pool.all<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE seq < ? AND dismissed_at IS NULL AND ${TOPIC_FILTER} AND ${TOKEN_FILTER} AND ${NOT_UNCACHED}
       ORDER BY seq DESC LIMIT ?`,
      [beforeSeq, json, json, tokenId, tokenId, limit],
    );
    return rows.map((r) => toNotification(r, this.sealer));
  }

  /** The same selection as `listed`, ids only (nothing opened): what a Gotify delete dismisses, a page at a time. */
  async listedIds(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null): Promise<{ id: string; seq: number }[]> {
    const json = topics ? JSON.stringify(topics) : null;
    return this.pool.all<{ id: string; seq: number }>(
      `SELECT id, seq FROM notifications WHERE seq < ? AND dismissed_at IS NULL AND ${TOPIC_FILTER} AND ${TOKEN_FILTER} AND ${NOT_UNCACHED}
       ORDER BY seq DESC LIMIT ?`,
      [beforeSeq, json, json, tokenId, tokenId, limit],
    );
  }

  /** The public id of the undismissed notification at `seq` within `topics`, or undefined. */
  async listedAt(seq: number, topics: string[] | null): Promise<string | undefined> {
    const json = topics ? JSON.stringify(topics) : null;
    const row = await this.pool.get<{ id: string }>(
      `SELECT id FROM notifications WHERE seq = ? AND dismissed_at IS NULL AND ${TOPIC_FILTER} AND ${NOT_UNCACHED}`,
      [seq, json, json],
    );
    return row?.id;
  }
}
