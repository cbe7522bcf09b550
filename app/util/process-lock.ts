import Database from 'better-sqlite3';
import fs from 'node:fs';

// An exclusive lock a process holds for its lifetime: SQLite's EXCLUSIVE lock on a small lock
// file, kept by an open transaction. The kernel drops the underlying file lock when the process
// dies, however it dies, so a kill -9 (or a pid reused by another program) never leaves a stale
// lock. A pid file beside it names the holder for the refusal message.

/** The lock is held by another process (`pid` when its pid file could be read). */
export class LockHeldError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number | undefined,
  ) {
    super(`${lockFile} is held by ${pid ? `pid ${pid}` : 'another process'}`);
    this.name = 'LockHeldError';
  }
}

/** A held lock; `release` ends it (also implicit when the process exits). */
export interface ProcessLock {
  release(): void;
}

function holderPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock for this process, or throws LockHeldError at once (no wait).
 *
 *   const lock = acquireProcessLock('/data/daemon.lock', '/data/daemon.pid');
 *   ...
 *   lock.release();
 */
export function acquireProcessLock(lockFile: string, pidFile: string): ProcessLock {
  const db = new Database(lockFile, { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new LockHeldError(lockFile, holderPid(pidFile));
    throw error;
  }
  fs.writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      if (holderPid(pidFile) === process.pid) fs.rmSync(pidFile, { force: true });
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
