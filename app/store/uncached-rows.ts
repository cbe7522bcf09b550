import type { Db } from './database';

// ntfy `Cache: no` on SQLite (uncached_notifications, uncached_owed; migration 013). Such a
// notification is stored sealed like any other (accepted means stored), owed only to the
// devices connected when it was accepted, kept out of every history, and deleted once each of
// them has settled it (acked, dismissed, or revoked), or at once when none was connected.

/** SQL condition keeping `Cache: no` notifications out of a history read (the row's `seq` column). */
export const NOT_UNCACHED = 'seq NOT IN (SELECT seq FROM uncached_notifications)';

/**
 * SQL column for a notification row read from `notifications`: the JSON array of the devices an
 * uncached one is owed to, NULL for every other row.
 */
export const OWED_TO_COLUMN = `CASE WHEN EXISTS (SELECT 1 FROM uncached_notifications u WHERE u.seq = notifications.seq)
  THEN (SELECT json_group_array(o.device_id) FROM uncached_owed o WHERE o.seq = notifications.seq) END AS owed_to`;

/**
 * Uncached ones nobody is owed any more: dismissed, or every device they were owed to has
 * settled it by its stored progress (its priority's watermark, or the seqs acked above it) or
 * is revoked. Devices that were deleted left no row (ON DELETE CASCADE).
 */
const PURGE_SQL = `DELETE FROM notifications WHERE seq IN (
  SELECT n.seq FROM uncached_notifications u JOIN notifications n ON n.seq = u.seq
  WHERE n.dismissed_at IS NOT NULL OR NOT EXISTS (
    SELECT 1 FROM uncached_owed o JOIN devices d ON d.id = o.device_id
    WHERE o.seq = n.seq AND d.revoked_at IS NULL AND NOT EXISTS (
      SELECT 1 FROM device_priority_progress p
      WHERE p.device_id = o.device_id AND p.priority = n.priority
        AND (p.watermark >= n.seq OR n.seq IN (SELECT value FROM json_each(p.acked_above))))))`;

/** The writes of `Cache: no`: marking one as it is appended, and purging what is no longer owed. */
export class UncachedRows {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      mark: db.prepare('INSERT INTO uncached_notifications (seq) VALUES (?)'),
      owe: db.prepare('INSERT OR IGNORE INTO uncached_owed (seq, device_id) SELECT ?, id FROM devices WHERE id = ?'),
      any: db.prepare('SELECT 1 FROM uncached_notifications LIMIT 1'),
      purge: db.prepare(PURGE_SQL),
    };
  }

  /** Inside a write: marks the row uncached, owed to these devices only. */
  mark(seq: number, owedTo: readonly string[]): void {
    this.stmts.mark.run(seq);
    for (const deviceId of owedTo) this.stmts.owe.run(seq, deviceId);
  }

  /** Inside a write: deletes the uncached ones no device is owed any more; returns how many. */
  purge(): number {
    if (this.stmts.any.get() === undefined) return 0;
    return this.stmts.purge.run().changes;
  }
}
