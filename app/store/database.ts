import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

// Opens the SQLite file in WAL mode and brings its schema up to date.

export type Db = Database.Database;

export interface OpenOptions {
  file: string;
  /** 'full' survives power loss; 'normal' survives kill -9 (WAL is in the OS before the answer). */
  durability: 'normal' | 'full';
  /** Optional cap on the file size, in bytes; a write past it fails as SQLITE_FULL. */
  maxBytes?: number;
}

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
/** ms opening and migrating may wait for a lock held by a `beep` tool: before the daemon serves anything. */
const OPEN_BUSY_TIMEOUT_MS = 5_000;
/**
 * ms a statement on the main connection may block the event loop waiting for a lock held by
 * another process; past it the group writer waits off the loop and retries (group-writer.ts).
 */
export const WRITER_BUSY_TIMEOUT_MS = 10;

/** The main (writer) connection. */
export function openDatabase(options: OpenOptions): Db {
  fs.mkdirSync(path.dirname(options.file), { recursive: true, mode: 0o700 });
  const db = new Database(options.file, { timeout: OPEN_BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  // Notifications are private: the database and its WAL are readable by their owner only.
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(options.file + suffix)) fs.chmodSync(options.file + suffix, 0o600);
  }
  db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  // What a row held before an update or a deletion (a pruned notification, a row re-sealed from
  // the four-seal format with its plaintext URL) is overwritten with zeros, not left in free space.
  db.pragma('secure_delete = ON');
  if (options.maxBytes) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.max(8, Math.floor(options.maxBytes / pageSize))}`);
  }
  migrate(db);
  db.pragma('wal_autocheckpoint = 0');
  // Neither checkpoints nor WAL file cuts run on this connection: the Checkpointer runs both on
  // a pool worker (a cut of a large WAL inside a COMMIT here would block the loop).
  db.pragma('journal_size_limit = -1');
  db.pragma(`busy_timeout = ${WRITER_BUSY_TIMEOUT_MS}`);
  return db;
}

/** Applies every numbered migration not yet applied, each in its own transaction. */
export function migrate(db: Db, dir = MIGRATIONS_DIR): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort();
  const done: number[] = [];
  for (const file of files) {
    const version = Number.parseInt(file, 10);
    if (applied.has(version)) continue;
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
    })();
    done.push(version);
  }
  return done;
}
