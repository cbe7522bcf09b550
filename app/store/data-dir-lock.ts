import fs from 'node:fs';
import path from 'node:path';
import { acquireProcessLock, LockHeldError, type ProcessLock } from '../util/process-lock';

// One daemon per data directory: `daemon.lock` held for the daemon's lifetime (a kernel-held
// lock, never stale after kill -9), `daemon.pid` beside it naming the holder.

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

export type DataDirLock = ProcessLock;

/**
 * Takes the data directory for this process, or throws DataDirLockedError at once (no wait).
 *
 *   const lock = acquireDataDirLock(dir);   // first thing at start
 *   ...
 *   lock.release();                          // last thing at stop
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    return acquireProcessLock(path.join(dataDir, LOCK_FILE), path.join(dataDir, PID_FILE));
  } catch (error) {
    if (error instanceof LockHeldError) throw new DataDirLockedError(dataDir, error.pid);
    throw error;
  }
}
