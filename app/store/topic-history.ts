import type { SubscriberHistory } from '../compat/ports';
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

/** The subscribers' history (compat/ports.ts declares it). */
export class TopicHistory implements SubscriberHistory {
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
}
