import type { BacklogArm } from '../delivery/backlog-cursor';
import type { StoredNotification } from '../domain/notification';
import type { BacklogRow, DeliveryStore, PriorityProgress, ProgressWrite, StoredProgress } from '../delivery/ports';
import type { Db } from './database';
import type { GroupWriter } from './group-writer';
import type { ReadPool } from './read-pool';
import { NOTIFICATION_COLUMNS, toNotification, type FieldSealer, type NotificationRow } from './rows';
import { OWED_TO_COLUMN, UncachedRows } from './uncached-rows';

// The DeliveryStore port on SQLite. Progress is kept per priority (device_priority_progress,
// migration 010): a watermark each plus the few seqs acked above it, so a catch-up by priority
// keeps every ledger small. A device with no row for a priority (paired after the migration)
// starts that priority at its `device_progress.watermark` (its pairing seq). Backlog pages are
// read by (priority, seq) through the partial index `notifications_owed`, on the main
// connection, one page per event-loop turn (an indexed range: a few milliseconds at most), and
// only the rows a session takes are decrypted. No read worker is needed for a catch-up: a
// worker's isolate cost more memory than the pages it read, and each page was copied across.

const PRIORITIES = [1, 2, 3, 4, 5];

/** Resolves on the next turn of the event loop (after I/O), so consecutive page reads let other work in between. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One arm of a page read: a priority's undismissed rows above a seq, oldest first (uses notifications_owed). */
const ARM_SQL = `SELECT * FROM (SELECT ${NOTIFICATION_COLUMNS}, ${OWED_TO_COLUMN} FROM notifications
  WHERE priority = ? AND seq > ? AND dismissed_at IS NULL ORDER BY seq LIMIT ?)`;

/** One priority's owed count: undismissed, above its watermark, not acked above it, and of the device's topics. */
const COUNT_SQL = `SELECT COUNT(*) AS n FROM notifications
  WHERE priority = ? AND seq > ? AND dismissed_at IS NULL
  AND seq NOT IN (SELECT value FROM json_each(?))
  AND (? IS NULL OR topic IS NULL OR topic IN (SELECT value FROM json_each(?)))`;

/** A `Cache: no` row carries the devices it is owed to (the others settle it unseen). */
function withOwed(n: StoredNotification, owedTo: string | null): StoredNotification {
  return owedTo === null ? n : { ...n, uncached: true, owedTo: JSON.parse(owedTo) as string[] };
}

interface ProgressRow {
  watermark: number;
  dismiss_cursor: number;
  topics: string | null;
  revoked_at: string | null;
}

/** Implements delivery's storage port: the main connection for reads of bounded size, the writer for writes, the pool for counts. */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly stmts;
  /** Page statements by number of arms (1-5), prepared on first use. */
  private readonly pageStatements = new Map<number, ReturnType<Db['prepare']>>();
  /** `Cache: no` rows, purged once no device is owed them (checked with each progress write). */
  private readonly uncached: UncachedRows;

  constructor(
    private readonly db: Db,
    private readonly writer: GroupWriter,
    private readonly pool: ReadPool,
    private readonly sealer: FieldSealer,
  ) {
    this.uncached = new UncachedRows(db);
    this.stmts = {
      progress: db.prepare(
        'SELECT p.watermark, p.dismiss_cursor, d.topics, d.revoked_at FROM device_progress p JOIN devices d ON d.id = p.device_id WHERE p.device_id = ?',
      ),
      priorities: db.prepare('SELECT priority, watermark, acked_above FROM device_priority_progress WHERE device_id = ?'),
      savePriority: db.prepare(
        `INSERT INTO device_priority_progress (device_id, priority, watermark, acked_above)
         SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?)
         ON CONFLICT (device_id, priority) DO UPDATE SET watermark = excluded.watermark, acked_above = excluded.acked_above`,
      ),
      saveCursor: db.prepare('UPDATE device_progress SET dismiss_cursor = MAX(dismiss_cursor, ?) WHERE device_id = ?'),
      touch: db.prepare('UPDATE devices SET last_seen_at = ? WHERE id = ?'),
      dismissals: db.prepare('SELECT seq, notification_id AS notificationId FROM dismissals WHERE seq > ? ORDER BY seq LIMIT ?'),
    };
  }

  /** Main connection: two small indexed reads when a device connects. */
  async progress(deviceId: string): Promise<StoredProgress | undefined> {
    const row = this.stmts.progress.get(deviceId) as ProgressRow | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    const priorities: Record<number, PriorityProgress> = {};
    for (const p of PRIORITIES) priorities[p] = { watermark: row.watermark, ackedAbove: [] };
    for (const r of this.stmts.priorities.all(deviceId) as { priority: number; watermark: number; acked_above: string }[]) {
      priorities[r.priority] = { watermark: r.watermark, ackedAbove: JSON.parse(r.acked_above) as number[] };
    }
    return { priorities, dismissCursor: row.dismiss_cursor, topics: row.topics === null ? null : (JSON.parse(row.topics) as string[]) };
  }

  /** Main connection, on a turn of its own: one query of up to five arms; each row is decrypted only if taken. */
  async page(arms: BacklogArm[], limit: number): Promise<BacklogRow[]> {
    if (arms.length === 0) return [];
    await nextTurn();
    let statement = this.pageStatements.get(arms.length);
    if (!statement) this.pageStatements.set(arms.length, (statement = this.db.prepare(arms.map(() => ARM_SQL).join(' UNION ALL '))));
    const rows = statement.all(arms.flatMap((a) => [a.priority, a.afterSeq, limit])) as (NotificationRow & { owed_to: string | null })[];
    return rows.map((row) => ({ seq: row.seq, priority: row.priority, id: row.id, open: () => withOwed(toNotification(row, this.sealer), row.owed_to) }));
  }

  /** One transaction for every device that moved (the coalesced write). */
  saveProgress(writes: ProgressWrite[]): Promise<void> {
    return this.writer.run(() => {
      for (const write of writes) {
        for (const p of write.priorities) {
          this.stmts.savePriority.run(write.deviceId, p.priority, p.watermark, JSON.stringify(p.ackedAbove), write.deviceId);
        }
        if (write.dismissCursor !== undefined) this.stmts.saveCursor.run(write.dismissCursor, write.deviceId);
      }
      this.uncached.purge();
    });
  }

  /** Main connection, on a turn of its own (an indexed range). */
  async dismissalsAfter(cursor: number, limit: number): Promise<{ seq: number; notificationId: string }[]> {
    await nextTurn();
    return this.stmts.dismissals.all(cursor, limit) as { seq: number; notificationId: string }[];
  }

  /** Read pool: one count per priority, summed. */
  async countOwed(progress: StoredProgress): Promise<number> {
    const topics = progress.topics === null ? null : JSON.stringify(progress.topics);
    const sql = `SELECT SUM(n) AS n FROM (${PRIORITIES.map(() => COUNT_SQL).join(' UNION ALL ')})`;
    const params = PRIORITIES.flatMap((p) => {
      const { watermark, ackedAbove } = progress.priorities[p];
      return [p, watermark, JSON.stringify(ackedAbove), topics === null ? null : 1, topics ?? '[]'];
    });
    const row = await this.pool.get<{ n: number | null }>(sql, params);
    return row?.n ?? 0;
  }

  touch(deviceId: string, at: Date): Promise<void> {
    return this.writer.run(() => void this.stmts.touch.run(at.toISOString(), deviceId));
  }
}
