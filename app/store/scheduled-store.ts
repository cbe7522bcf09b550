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
      list: db.prepare('SELECT id, due_ms, created_ms, sealed FROM scheduled_notifications ORDER BY due_ms, id LIMIT ?'),
    };
  }

  add(entry: ScheduledEntry): Promise<void> {
    const sealed = this.sealer.seal(JSON.stringify(entry.input), scheduledAad(entry.id));
    const { topic, tokenId } = entry.input;
    return this.writer.run(() => void this.stmts.insert.run(entry.id, entry.dueMs, entry.createdMs, topic, tokenId ?? null, sealed));
  }

  async due(nowMs: number, limit: number): Promise<ScheduledEntry[]> {
    return (this.stmts.due.all(nowMs, limit) as ScheduledRow[]).map((r) => this.open(r));
  }

  async nextDueMs(): Promise<number | null> {
    return (this.stmts.next.get() as { due: number | null }).due;
  }

  remove(id: string): Promise<boolean> {
    return this.writer.run(() => this.stmts.remove.run(id).changes > 0);
  }

  async list(limit: number): Promise<ScheduledEntry[]> {
    return (this.stmts.list.all(limit) as ScheduledRow[]).map((r) => this.open(r));
  }

  private open(row: ScheduledRow): ScheduledEntry {
    const input = JSON.parse(this.sealer.open(row.sealed, scheduledAad(row.id))) as NotificationInput;
    return { id: row.id, dueMs: row.due_ms, createdMs: row.created_ms, input };
  }
}
