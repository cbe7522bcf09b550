import Database from 'better-sqlite3';
import fs from 'node:fs';
import type { SourceLog } from './dbus/dbus-capture';
import type { SourceStatus } from './source';

// The loop both database-reading sources (macOS, Windows) share: every pollMs it opens the
// desktop's notification database read-only, lets the source read what is new, and closes it
// again, so between polls Beep holds no handle on a file the operating system owns. A missing,
// locked or foreign file is not an error: the source waits (health names why) and retries.

/**
 * ms a read waits for a lock before giving up until the next poll. Readers in WAL mode do not
 * wait for writers; this only covers a writer holding the file exclusively, and it stays short
 * because better-sqlite3 waits on the daemon's only thread.
 */
const READ_BUSY_MS = 100;

/** The file to poll and how often (the source's config), with the words its reasons use. */
export interface PolledDatabaseOptions {
  enabled: boolean;
  /** The database file; null when there is no default for this user. */
  database: string | null;
  pollMs: number;
  /** The config key that switches the source, for the reason given while it is off. */
  configKey: string;
  /** What the file is, for log lines and reasons ("the macOS notification centre"). */
  what: string;
}

/** The source-specific half: which tables make the file the right database, and one read of it. */
export interface DatabaseReader {
  readonly tables: readonly string[];
  /** Reads what is new; throws when the file cannot be read (the source then waits). */
  poll(db: Database.Database): Promise<void>;
}

/**
 * The poll loop and the attached/waiting state.
 *
 *   const loop = new PolledDatabase(options, { tables: ['record', 'app'], poll: (db) => … }, log);
 *   loop.start();  …  await loop.stop();
 */
export class PolledDatabase {
  private state: SourceStatus['state'];
  private reason: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling: Promise<void> | null = null;

  constructor(
    private readonly options: PolledDatabaseOptions,
    private readonly reader: DatabaseReader,
    private readonly log: SourceLog,
  ) {
    this.state = options.enabled ? 'waiting' : 'disabled';
    if (!options.enabled) this.reason = `disabled in the configuration (${options.configKey})`;
  }

  start(): void {
    if (this.options.enabled) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  status(): SourceStatus {
    return { state: this.state, from: this.options.database, reason: this.reason, expected: this.options.enabled };
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
    const file = this.options.database;
    if (!file || !fs.existsSync(file)) return this.wait(`no notification database at ${file ?? '(none)'}`);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: READ_BUSY_MS });
      const names = this.reader.tables.map((t) => `'${t}'`).join(', ');
      const found = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${names})`).all();
      if (found.length !== this.reader.tables.length) {
        return this.wait(`${file} is not ${this.options.what}'s database (no ${this.reader.tables.join('/')} tables)`);
      }
      await this.reader.poll(db);
      if (this.state !== 'attached') this.log.info(`capturing notifications from ${this.options.what}`, { database: file });
      this.state = 'attached';
      this.reason = undefined;
    } catch (error) {
      this.wait(`cannot read the notification database: ${(error as Error).message}`);
    } finally {
      db?.close();
    }
  }

  private wait(reason: string): void {
    if (reason !== this.reason) this.log.info(`running without capture from ${this.options.what} for now`, { reason });
    this.state = 'waiting';
    this.reason = reason;
  }
}

/**
 * What every database-polling source shares: start, stop and status are its loop's, and a
 * notification cannot be closed from outside the platform that owns the database.
 */
export abstract class PolledSource {
  protected abstract readonly loop: PolledDatabase;

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  status(): SourceStatus {
    return this.loop.status();
  }

  async closeOnDesktop(): Promise<boolean> {
    return false;
  }
}
