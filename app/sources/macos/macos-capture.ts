import Database from 'better-sqlite3';
import fs from 'node:fs';
import type { CaptureSink, DesktopSource, SourceStatus } from '../source';
import type { SourceLog } from '../dbus/dbus-capture';
import { recordToInput } from './notification-record';

// macOS capture: polls the notification centre's SQLite database (read-only) for records newer
// than the last one seen, and notices records that disappear (cleared in the notification
// centre) to dismiss them on the phones. macOS offers no supported way to close a
// notification from outside, so a phone's dismiss stays on the phone.

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
  data: Buffer | null;
  identifier: string | null;
}

/**
 * The macOS source.
 *
 *   const mac = new MacosCapture({ enabled, database, pollMs }, sink, log); mac.start();
 */
export class MacosCapture implements DesktopSource {
  readonly name = 'macos' as const;
  private db: Database.Database | null = null;
  private cursor = 0;
  /** rec_id → Beep id of what was captured and is still in the notification centre. */
  private readonly tracked = new Map<number, string>();
  private state: SourceStatus['state'];
  private reason: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling: Promise<void> | null = null;

  constructor(
    private readonly options: MacosCaptureOptions,
    private readonly sink: CaptureSink,
    private readonly log: SourceLog,
  ) {
    this.state = options.enabled ? 'waiting' : 'disabled';
    if (!options.enabled) this.reason = 'disabled in the configuration (sources.macos.enabled)';
  }

  start(): void {
    if (this.options.enabled) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    this.db?.close();
    this.db = null;
  }

  status(): SourceStatus {
    return { state: this.state, from: this.options.database, reason: this.reason, expected: this.options.enabled };
  }

  async closeOnDesktop(): Promise<boolean> {
    return false;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.tick().finally(() => {
        this.polling = null;
        this.schedule(this.options.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      if (!this.db) this.open();
      if (this.db) await this.poll(this.db);
    } catch (error) {
      this.db?.close();
      this.db = null;
      this.wait(`cannot read the notification database: ${(error as Error).message}`);
    }
  }

  private open(): void {
    const file = this.options.database;
    if (!file || !fs.existsSync(file)) return this.wait(`no notification database at ${file ?? '(none)'}`);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('record', 'app')").all();
    if (tables.length !== 2) {
      db.close();
      return this.wait(`${file} is not a notification centre database (no record/app tables)`);
    }
    // Start after what is already there: history is not replayed to the phones.
    this.cursor = (db.prepare('SELECT COALESCE(MAX(rec_id), 0) AS id FROM record').get() as { id: number }).id;
    this.db = db;
    this.state = 'attached';
    this.reason = undefined;
    this.log.info('capturing notifications from the macOS notification centre', { database: file });
  }

  private wait(reason: string): void {
    if (reason !== this.reason) this.log.info('running without macOS capture for now', { reason });
    this.state = 'waiting';
    this.reason = reason;
  }

  private async poll(db: Database.Database): Promise<void> {
    const rows = db
      .prepare(
        `SELECT r.rec_id AS id, r.data AS data, a.identifier AS identifier FROM record r
         LEFT JOIN app a ON a.app_id = r.app_id WHERE r.rec_id > ? ORDER BY r.rec_id LIMIT ${BATCH}`,
      )
      .all(this.cursor) as RecordRow[];
    for (const row of rows) {
      this.cursor = row.id;
      let input;
      try {
        input = row.data ? recordToInput(row.data, row.identifier) : null;
      } catch (error) {
        this.log.warn('skipped an unreadable notification record', { recId: row.id, error: (error as Error).message });
        continue;
      }
      if (!input) continue;
      const id = await this.sink.accept(input);
      if (!id) continue;
      this.tracked.set(row.id, id);
      if (this.tracked.size > MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value as number);
    }
    await this.dismissRemoved(db);
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
