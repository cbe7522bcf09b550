import type { NotificationInput } from '../domain/notification';
import type { ScheduledEntry, ScheduleStore } from '../schedule/scheduler';
import type { Db } from './database';
import type { GroupWriter } from './group-writer';
import type { FieldSealer } from './rows';

// Scheduled notifications on SQLite (scheduled_notifications, migration 013): each one sealed
// whole, like a notification row, its associated data naming the row so a seal moved to another
// row fails to open. Writes go through the group writer; the reads are small index reads on the
// main connection (due_ms), answered as promises as a shared store would.

interface ScheduledRow {
  id: string;
  due_ms: number;
  created_ms: number;
  sealed: string;
}

/** The associated data of a scheduled row's seal (the colon keeps it apart from notification rows'). */
export function scheduledAad(id: string): string {
  return `scheduled:${id}`;
}

/** Implements the scheduler's port (schedule/scheduler.ts declares it). */
export class SqliteScheduleStore implements ScheduleStore {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly writer: GroupWriter,
    private readonly sealer: FieldSealer,
  ) {
    this.stmts = {
      insert: db.prepare(
        'INSERT OR IGNORE INTO scheduled_notifications (id, due_ms, created_ms, topic, token_id, sealed) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      due: db.prepare('SELECT id, due_ms, created_ms, sealed FROM scheduled_notifications WHERE due_ms <= ? ORDER BY due_ms, id LIMIT ?'),
      next: db.prepare('SELECT MIN(due_ms) AS due FROM scheduled_notifications'),
      remove: db.prepare('DELETE FROM scheduled_notifications WHERE id = ?'),
      removeByToken: db.prepare('DELETE FROM scheduled_notifications WHERE token_id = ?'),
      // An uploaded file is claimed by the scheduled notification at once (the attachment sweep
      // keeps it while it waits; cancelled, it goes with the next sweep).
      claimFile: db.prepare('UPDATE attachments SET notification_id = ? WHERE id = ? AND notification_id IS NULL'),
      list: db.prepare('SELECT id, due_ms, created_ms, sealed FROM scheduled_notifications ORDER BY due_ms, id LIMIT ?'),
    };
  }

  add(entry: ScheduledEntry): Promise<void> {
    const sealed = this.sealer.seal(JSON.stringify(entry.input), scheduledAad(entry.id));
    const { topic, tokenId } = entry.input;
    const file = entry.input.attachment?.file;
    return this.writer.run(() => {
      this.stmts.insert.run(entry.id, entry.dueMs, entry.createdMs, topic, tokenId ?? null, sealed);
      if (file) this.stmts.claimFile.run(entry.id, file);
    });
  }

  /**
   * A row whose seal does not open (damaged, or under a key that is gone) can never be sent: it
   * is dropped and reported by throwing once, so the scheduler logs it and goes on with the rest.
   */
  async due(nowMs: number, limit: number): Promise<ScheduledEntry[]> {
    const entries: ScheduledEntry[] = [];
    const unreadable: string[] = [];
    for (const row of this.stmts.due.all(nowMs, limit) as ScheduledRow[]) {
      const entry = this.tryOpen(row);
      if (entry) entries.push(entry);
      else unreadable.push(row.id);
    }
    if (unreadable.length > 0) {
      await this.writer.run(() => unreadable.forEach((id) => this.stmts.remove.run(id)));
      throw new Error(`scheduled notifications that could not be opened were dropped: ${unreadable.join(', ')}`);
    }
    return entries;
  }

  async nextDueMs(): Promise<number | null> {
    return (this.stmts.next.get() as { due: number | null }).due;
  }

  remove(id: string): Promise<boolean> {
    return this.writer.run(() => this.stmts.remove.run(id).changes > 0);
  }

  removeByToken(tokenId: number): Promise<number> {
    return this.writer.run(() => this.stmts.removeByToken.run(tokenId).changes);
  }

  /** What waits, earliest first (a row that does not open is left out; its due time drops it). */
  async list(limit: number): Promise<ScheduledEntry[]> {
    return (this.stmts.list.all(limit) as ScheduledRow[]).flatMap((r) => this.tryOpen(r) ?? []);
  }

  private tryOpen(row: ScheduledRow): ScheduledEntry | null {
    try {
      const input = JSON.parse(this.sealer.open(row.sealed, scheduledAad(row.id))) as NotificationInput;
      return { id: row.id, dueMs: row.due_ms, createdMs: row.created_ms, input };
    } catch {
      return null;
    }
  }
}
