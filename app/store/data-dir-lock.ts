import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

// One daemon per data directory. The lock is an exclusive SQLite transaction held open on
// `daemon.lock` for the daemon's lifetime: the kernel drops the underlying file lock when the
// process dies, however it dies, so a kill -9 (or a pid reused by another program) never
// blocks the next start. `daemon.pid` beside it names the holder for the refusal message.

export const LOCK_FILE = 'daemon.lock';
export const PID_FILE = 'daemon.pid';

/** Another daemon holds the data directory; carries what the refusal should say. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number | undefined,
  ) {
    super(
      `another Beep daemon${pid ? ` (pid ${pid})` : ''} is already running on the data directory ${dataDir}; ` +
        'stop it first, or start this one with another --data-dir (or $BEEP_HOME)',
    );
    this.name = 'DataDirLockedError';
  }
}

/** A held lock; `release` ends it (also implicit when the process exits). */
export interface DataDirLock {
  release(): void;
}

function holderPid(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the data directory for this process, or throws DataDirLockedError at once (no wait).
 *
 *   const lock = acquireDataDirLock(dir);   // first thing at start
 *   ...
 *   lock.release();                          // last thing at stop
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = lockOrThrow(dataDir);
  fs.writeFileSync(path.join(dataDir, PID_FILE), `${process.pid}\n`, { mode: 0o644 });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      if (holderPid(dataDir) === process.pid) fs.rmSync(path.join(dataDir, PID_FILE), { force: true });
      unlock(db);
    },
  };
}

/** Opens the lock file and takes SQLite's EXCLUSIVE lock on it without waiting. */
function lockOrThrow(dataDir: string): Database.Database {
  const db = new Database(path.join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new DataDirLockedError(dataDir, holderPid(dataDir));
    throw error;
  }
}

function unlock(db: Database.Database): void {
  db.exec('ROLLBACK');
  db.close();
}
