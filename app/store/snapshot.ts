import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

// Online backup of the live database (SQLite backup API) and the swap that restores one.
// Used by the `beep backup` / `beep restore` commands, beside a running daemon or not.

export const DATABASE_FILE = 'beep.db';

export interface SnapshotProgress {
  totalPages: number;
  remainingPages: number;
}

/** Pages copied per step: small steps make a smooth progress bar and short read locks. */
const PAGES_PER_STEP = 64;

/**
 * Copies the database into `outFile` page by page. A read transaction held on the source for
 * the whole copy pins one consistent snapshot, so the daemon's commits meanwhile neither
 * restart the copy nor tear it.
 */
export async function snapshotDatabase(dataDir: string, outFile: string, onProgress?: (p: SnapshotProgress) => void): Promise<{ pages: number }> {
  const file = path.join(dataDir, DATABASE_FILE);
  if (!fs.existsSync(file)) throw new Error(`no database at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
  let pages = 0;
  try {
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // starts the read: the snapshot
    await db.backup(outFile, {
      progress: (p) => {
        pages = p.totalPages;
        onProgress?.(p);
        return PAGES_PER_STEP;
      },
    });
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  // The copy inherits WAL mode; a single self-contained file is what a backup should be.
  const copy = new Database(outFile);
  copy.pragma('journal_mode = DELETE');
  copy.close();
  fs.chmodSync(outFile, 0o600);
  onProgress?.({ totalPages: pages, remainingPages: 0 });
  return { pages };
}

/** Checks that `file` is a sound Beep database; throws a readable error otherwise. */
export function checkDatabase(file: string): { notifications: number; devices: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const verdict = db.pragma('integrity_check', { simple: true });
    if (verdict !== 'ok') throw new Error(`the restored database fails its integrity check: ${String(verdict)}`);
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    if (!tables.has('schema_migrations') || !tables.has('notifications')) throw new Error('this is not a Beep database');
    const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { notifications: count('notifications'), devices: count('devices') };
  } finally {
    db.close();
  }
}

/**
 * Puts `restoredFile` in place of the database (the daemon must be stopped). The previous
 * database is kept beside it as beep.db.before-restore, its WAL folded in first.
 */
export function swapInDatabase(dataDir: string, restoredFile: string): { previous: string | null } {
  const file = path.join(dataDir, DATABASE_FILE);
  let previous: string | null = null;
  if (fs.existsSync(file)) {
    const old = new Database(file, { timeout: 5_000 });
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    previous = `${file}.before-restore`;
    fs.renameSync(file, previous);
  }
  for (const suffix of ['-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  fs.renameSync(restoredFile, file);
  fs.chmodSync(file, 0o600);
  return { previous };
}
