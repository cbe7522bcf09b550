import type { Db } from './database';

// Which desktop notification each captured notification is (migration 003), so a phone's
// dismiss can close it on the PC and a close on the PC can dismiss it on the phones.

export class DesktopIdRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare(
        'INSERT OR REPLACE INTO desktop_notifications (notification_id, source, desktop_key, created_ms) VALUES (?, ?, ?, ?)',
      ),
      byKey: db.prepare(
        `SELECT d.notification_id AS id FROM desktop_notifications d JOIN notifications n ON n.id = d.notification_id
         WHERE d.source = ? AND d.desktop_key = ? ORDER BY n.seq DESC LIMIT 1`,
      ),
      byId: db.prepare('SELECT desktop_key AS key FROM desktop_notifications WHERE notification_id = ? AND source = ?'),
    };
  }

  /** Inside a write. Ignored when the notification is gone (pruned meanwhile). */
  remember(source: string, key: string, notificationId: string, nowMs: number): void {
    try {
      this.stmts.insert.run(notificationId, source, key, nowMs);
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_FOREIGNKEY') throw error;
    }
  }

  /** The newest notification captured under a desktop key. */
  notificationFor(source: string, key: string): string | undefined {
    return (this.stmts.byKey.get(source, key) as { id: string } | undefined)?.id;
  }

  /** The desktop key of a captured notification. */
  keyFor(source: string, notificationId: string): string | undefined {
    return (this.stmts.byId.get(notificationId, source) as { key: string } | undefined)?.key;
  }
}
