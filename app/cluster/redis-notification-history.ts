import type Redis from 'ioredis';
import type { StoredNotification } from '../domain/notification';
import type { HistorySource } from '../http/routes/notification-routes';
import type { FieldSealer } from '../store/rows';
import { HistoryScan } from './history-scan';
import type { RedisKeys } from './redis-keys';
import { decodeEntry, entryJsonOf, streamId } from './stream-entry';

// The admin history (GET /api/v1/notifications) on Redis (what store/notification-history.ts is
// on SQLite): newest first, a page before a public id, read from the outbox's `history` index a
// bounded step at a time. `Cache: no` notifications are not in it.

/** What the notification routes (HistorySource) and the attachment routes (findById) need. */
export class RedisNotificationHistory implements HistorySource {
  private readonly scanner: HistoryScan;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
    /** Entries asked of Redis per step (config/defaults.ts REDIS_HISTORY_SCAN_PAGE). */
    scanPage: number,
  ) {
    this.scanner = new HistoryScan(redis, keys, scanPage);
  }

  async history(limit: number, beforeId: string | null): Promise<StoredNotification[]> {
    let beforeSeq = Number.POSITIVE_INFINITY;
    if (beforeId !== null) {
      const anchor = await this.redis.get(this.keys.id(beforeId));
      if (anchor === null) return [];
      beforeSeq = Number(anchor);
    }
    const found = await this.scanner.scan({ indexes: [this.keys.history], direction: 'desc', bound: beforeSeq, limit, dismissals: true });
    return found.map((c) => decodeEntry(this.sealer, c.seq, c.json, c.dismissedAt));
  }

  /** One notification by its public id (the attachment route reads its attachment's name and type). */
  async findById(id: string): Promise<StoredNotification | undefined> {
    const seq = await this.redis.get(this.keys.id(id));
    if (seq === null) return undefined;
    const replies = (await this.redis.pipeline().xrange(this.keys.outbox, streamId(Number(seq)), streamId(Number(seq))).hget(this.keys.dismissed, seq).exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const entries = replies[0]?.[1] as [string, string[]][] | undefined;
    const dismissedAt = (replies[1]?.[1] as string | null | undefined) ?? null;
    const entry = entries?.[0];
    return entry ? decodeEntry(this.sealer, Number(seq), entryJsonOf(entry[1]), dismissedAt) : undefined;
  }
}
