import { storedFrom, type NotificationInput, type StoredNotification } from '../domain/notification';
import type { Db } from './database';
import type { ReadPool } from './read-pool';
import { sealRow } from './row-seal';
import { NOTIFICATION_COLUMNS, toNotification, type FieldSealer, type NotificationRow } from './rows';
import { NOT_UNCACHED, UncachedRows } from './uncached-rows';

// The outbox table: writes run inside the group writer's transaction, reads on the pool.

export interface AppendOutcome {
  notification: StoredNotification;
  duplicate: boolean;
}

export class NotificationRepository {
  private readonly stmts;
  /** `Cache: no` rows: marked at append, purged once no device is owed them. */
  readonly uncached: UncachedRows;

  constructor(
    db: Db,
    private readonly pool: ReadPool,
    private readonly sealer: FieldSealer,
  ) {
    this.uncached = new UncachedRows(db);
    this.stmts = {
      byId: db.prepare(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?`),
      insert: db.prepare(
        `INSERT INTO notifications (id, title, body, app, priority, tags, url, topic, source, created_at, created_ms, replaces, icon, markdown, untitled, token_id, sealed)
         VALUES (@id, @title, @body, @app, @priority, @tags, @url, @topic, @source, @createdAt, @createdMs, @replaces, @icon, @markdown, @untitled, @tokenId, @sealed)`,
      ),
      dismiss: db.prepare('UPDATE notifications SET dismissed_at = ? WHERE id = ? AND dismissed_at IS NULL'),
      seqOf: db.prepare('SELECT seq FROM notifications WHERE id = ?'),
      addDismissal: db.prepare('INSERT INTO dismissals (notification_id, by_device, at_ms) VALUES (?, ?, ?)'),
      maxSeq: db.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM notifications"),
      sequence: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'notifications'"),
      deleteOld: db.prepare('DELETE FROM notifications WHERE created_ms < ?'),
      deleteOldDismissals: db.prepare('DELETE FROM dismissals WHERE at_ms < ?'),
      linkAttachment: db.prepare('UPDATE attachments SET notification_id = ? WHERE id = ? AND notification_id IS NULL'),
    };
  }

  /** The outbox seq of a public id (ntfy since=<id>), or undefined when unknown or pruned. */
  seqOf(id: string): number | undefined {
    return (this.stmts.seqOf.get(id) as { seq: number } | undefined)?.seq;
  }

  /** Whether a notification with this public id is stored. */
  has(id: string): boolean {
    return this.stmts.seqOf.get(id) !== undefined;
  }

  /** Inside a write: stores the notification, or returns the one already stored under its client id. */
  append(input: NotificationInput, id: string, now: Date): AppendOutcome {
    // Only a client's own id can already be stored: one drawn by ingest (input.id absent) is 96 random bits.
    const existing = input.id === undefined ? undefined : (this.stmts.byId.get(id) as NotificationRow | undefined);
    if (existing) return { notification: toNotification(existing, this.sealer), duplicate: true };
    const createdAt = now.toISOString();
    const secrets = { title: input.title, body: input.body, app: input.app, tags: input.tags, url: input.url, icon: input.icon ?? null, givenPriority: input.givenPriority, actions: input.actions, attachment: input.attachment ?? undefined };
    const info = this.stmts.insert.run({
      id,
      ...sealRow(this.sealer, id, secrets),
      priority: input.priority,
      topic: input.topic,
      source: input.source,
      createdAt,
      createdMs: now.getTime(),
      replaces: input.replaces ?? null,
      markdown: input.markdown ? 1 : 0,
      untitled: input.untitled ? 1 : 0,
      tokenId: input.tokenId ?? null,
    });
    if (input.owedTo) this.uncached.mark(Number(info.lastInsertRowid), input.owedTo);
    // A stored attachment belongs to its notification from the same commit (store/attachment-files.ts).
    if (input.attachment?.file) this.stmts.linkAttachment.run(id, input.attachment.file);
    // An update supersedes what it replaces: no longer owed to anyone, no `dismissed` sent.
    if (input.replaces) this.stmts.dismiss.run(createdAt, input.replaces);
    return { notification: storedFrom(input, id, Number(info.lastInsertRowid), createdAt), duplicate: false };
  }

  /** Inside a write: marks it dismissed; returns its seq, or null when unknown or already dismissed. */
  dismiss(id: string, byDevice: string | null, now: Date): { seq: number; dismissalSeq: number } | null {
    const changed = this.stmts.dismiss.run(now.toISOString(), id).changes;
    if (changed === 0) return null;
    const { seq } = this.stmts.seqOf.get(id) as { seq: number };
    const dismissalSeq = Number(this.stmts.addDismissal.run(id, byDevice, now.getTime()).lastInsertRowid);
    return { seq, dismissalSeq };
  }

  /** The highest seq ever handed out (survives deletion of old rows). */
  lastSeq(): number {
    const row = this.stmts.sequence.get() as { seq: number } | undefined;
    return row?.seq ?? (this.stmts.maxSeq.get() as { seq: number }).seq;
  }

  /** Inside a write: drops notifications and dismissals older than the retention cut-off. */
  deleteOlderThan(cutoffMs: number): number {
    this.stmts.deleteOldDismissals.run(cutoffMs);
    return this.stmts.deleteOld.run(cutoffMs).changes;
  }

  /** History, newest first, for the admin API. */
  async history(limit: number, beforeSeq: number | null): Promise<StoredNotification[]> {
    const rows = await this.pool.all<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE seq < ? AND ${NOT_UNCACHED} ORDER BY seq DESC LIMIT ?`,
      [beforeSeq ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((r) => toNotification(r, this.sealer));
  }

  /**
   * The recent history a newly paired device is shown: undismissed notifications accepted from
   * `fromMs` up to its pairing (seq <= pairedSeq), of its topics (untopiced ones always), newest
   * `limit`, returned oldest first.
   */
  async recentUpTo(pairedSeq: number, fromMs: number, topics: string[] | null, limit: number): Promise<StoredNotification[]> {
    const rows = await this.pool.all<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE seq <= ? AND created_ms >= ? AND dismissed_at IS NULL AND ${NOT_UNCACHED}
       AND (? IS NULL OR topic IS NULL OR topic IN (SELECT value FROM json_each(?)))
       ORDER BY seq DESC LIMIT ?`,
      [pairedSeq, fromMs, topics === null ? null : 1, JSON.stringify(topics ?? []), limit],
    );
    return rows.reverse().map((r) => toNotification(r, this.sealer));
  }

  /** Looks a notification up by its public id (admin). */
  async findById(id: string): Promise<StoredNotification | undefined> {
    const row = await this.pool.get<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?`, [id]);
    return row ? toNotification(row, this.sealer) : undefined;
  }
}
