import type Database from 'better-sqlite3';
import crypto from 'node:crypto';
import type { CaptureSink, DesktopSource, SkipCounter, SourcePositionStore } from '../source';
import type { SourceLog } from '../dbus/dbus-capture';
import { PolledDatabase, PolledSource } from '../polled-database';
import { advanced, KeptPosition, type Position } from '../read-position';
import { recordToInput } from './notification-record';

// macOS capture: polls the notification centre's SQLite database (read-only) for records newer
// than the read position (kept in the store, so a restart resumes there), and notices records
// that disappear (cleared in the notification centre) to dismiss them on the phones. macOS
// offers no supported way to close a notification from outside, so a phone's dismiss stays on
// the phone.

export interface MacosCaptureOptions {
  enabled: boolean;
  database: string | null;
  pollMs: number;
}

/** Records read per poll; the rest follow on the next one. */
const BATCH = 500;
/** Captured records watched for removal, at most. */
const MAX_TRACKED = 1024;

interface RecordRow {
  id: number;
  time: number | null;
  uuid: Buffer | null;
  data: Buffer | null;
  identifier: string | null;
}

/** The Beep id of a record: the same record always gets the same id, so a re-read is a duplicate, not a second notification. */
function beepIdOf(row: RecordRow): string {
  const key = `macos\0${row.id}\0${row.time ?? ''}\0${row.uuid?.toString('hex') ?? ''}`;
  return `m${crypto.createHash('sha256').update(key).digest('base64url').slice(0, 24)}`;
}

/**
 * The macOS source.
 *
 *   const mac = new MacosCapture({ enabled, database, pollMs }, sink, store, log); mac.start();
 */
export class MacosCapture extends PolledSource implements DesktopSource {
  readonly name = 'macos' as const;
  protected readonly loop: PolledDatabase;
  private readonly kept: KeptPosition<number>;
  /** rec_id → Beep id of what was captured and is still in the notification centre. */
  private readonly tracked = new Map<number, string>();

  constructor(
    options: MacosCaptureOptions,
    private readonly sink: CaptureSink,
    positions: SourcePositionStore,
    private readonly log: SourceLog,
    private readonly skipped: SkipCounter = () => {},
  ) {
    super();
    this.kept = new KeptPosition('macos', options.database ?? '', positions, Number);
    const loopOptions = { ...options, configKey: 'sources.macos.enabled', what: 'the macOS notification centre' };
    this.loop = new PolledDatabase(loopOptions, { tables: ['record', 'app'], poll: (db) => this.poll(db) }, log);
  }

  /** First attach: start after what is already there (history is not replayed to the phones). */
  private async startingPosition(db: Database.Database): Promise<Position<number>> {
    const kept = await this.kept.load();
    if (kept) return kept;
    const end = db.prepare('SELECT COALESCE(MAX(rec_id), 0) AS row, COALESCE(MAX(delivered_date), 0) AS time FROM record').get() as Position<number>;
    await this.kept.save(end);
    return end;
  }

  private async poll(db: Database.Database): Promise<void> {
    let position = await this.startingPosition(db);
    const rows = db
      .prepare(
        `SELECT r.rec_id AS id, r.delivered_date AS time, r.uuid AS uuid, r.data AS data, a.identifier AS identifier FROM record r
         LEFT JOIN app a ON a.app_id = r.app_id WHERE r.rec_id > ? OR r.delivered_date > ? ORDER BY r.rec_id LIMIT ${BATCH}`,
      )
      .all(position.row, position.time) as RecordRow[];
    try {
      for (const row of rows) {
        await this.relay(row);
        position = advanced(position, row.id, row.time);
      }
    } finally {
      await this.kept.save(position);
    }
    await this.dismissRemoved(db);
  }

  private async relay(row: RecordRow): Promise<void> {
    // A reused rec_id (the newest record was cleared, the next one took its number): the old one is gone.
    const previous = this.tracked.get(row.id);
    this.tracked.delete(row.id);
    if (previous) await this.sink.dismissed(previous);
    let input;
    try {
      input = row.data ? recordToInput(row.data, row.identifier) : null;
    } catch (error) {
      this.skipped('unreadable');
      this.log.warn('skipped an unreadable notification record', { recId: row.id, error: (error as Error).message });
      return;
    }
    if (!input) return;
    const id = await this.sink.accept({ ...input, id: beepIdOf(row) });
    if (!id) return;
    this.tracked.set(row.id, id);
    if (this.tracked.size > MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value as number);
  }

  /** A record that vanished was cleared in the notification centre. */
  private async dismissRemoved(db: Database.Database): Promise<void> {
    if (this.tracked.size === 0) return;
    const present = new Set(
      (db.prepare('SELECT rec_id AS id FROM record WHERE rec_id IN (SELECT value FROM json_each(?))').all(JSON.stringify([...this.tracked.keys()])) as { id: number }[]).map(
        (r) => r.id,
      ),
    );
    for (const [recId, id] of [...this.tracked]) {
      if (present.has(recId)) continue;
      this.tracked.delete(recId);
      await this.sink.dismissed(id);
    }
  }
}
