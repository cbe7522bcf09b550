import type { Db } from './database';

// The single writer: many concurrent requests share one transaction (group commit), and each
// one is answered only after the commit that holds its write. The connection's busy timeout is
// short (database.ts): when another process holds the write lock, the group waits off the
// event loop (a timer retries) instead of inside SQLite, a bounded number of writes queue up,
// and each fails (CommitError, HTTP 503) once it has waited `lockWaitMs`.

/** A write that could not be committed: the caller must not report success (HTTP 503). */
export class CommitError extends Error {
  constructor(override readonly cause: unknown) {
    super(`commit failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'CommitError';
  }
}

export interface GroupWriterOptions {
  /** At most this many writes share a transaction. */
  maxOps: number;
  /**
   * ms the first write of a group waits for company when company is coming: writes arrive, on
   * average, more often than once per window. Otherwise (a lone write, a few a second) it
   * commits on the next turn with whatever arrived in this one. 0 = the same turn only, always.
   */
  windowMs: number;
  /** Told the duration (s) and size of each committed group, for metrics. */
  onCommit?: (seconds: number, size: number, ok: boolean) => void;
  /** ms a write may wait for a write lock held by another connection before it fails. */
  lockWaitMs: number;
  /** Writes that may wait at once; one more is refused at once (CommitError). */
  maxQueued: number;
}

/** ms between two attempts at a lock held elsewhere: the first retry is quick, later ones back off to this. */
const LOCK_RETRY_MAX_MS = 100;
const LOCK_RETRY_FIRST_MS = 5;
/** The mean gap between writes is followed over about this many of them (an exponential average). */
const GAP_AVERAGE_OVER = 8;
/** ms: longer gaps count as this one, so one quiet hour does not take many writes to forget. */
const GAP_CAP_MS = 1_000;

interface PendingWrite {
  fn: (db: Db) => unknown;
  queuedAt: number;
  afterCommit?: (value: unknown) => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Serialises writes and commits them in groups.
 *
 *   const seq = await writer.run((db) => insert.run(row).lastInsertRowid, (seq) => scheduler.add(seq));
 *
 * `fn` runs inside the group's transaction (in its own savepoint, so one failing write does
 * not sink its neighbours); `afterCommit` runs synchronously right after COMMIT, in order,
 * before any promise resolves — the place to hand accepted work to in-memory structures.
 */
export class GroupWriter {
  private queue: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  /** Since when (epoch ms) the write lock is held by another connection; null while we get it. */
  private lockedSince: number | null = null;
  private retryMs = LOCK_RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last write queued, and the mean gap (ms) between writes. */
  private lastArrival = -GAP_CAP_MS;
  private meanGapMs = GAP_CAP_MS;
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly options: GroupWriterOptions,
  ) {
    this.stmts = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT op'),
      release: db.prepare('RELEASE op'),
      rollbackTo: db.prepare('ROLLBACK TO op'),
    };
  }

  /** Queues a write; resolves with fn's result once it is committed. */
  run<T>(fn: (db: Db) => T, afterCommit?: (value: T) => void): Promise<T> {
    if (this.closed) return Promise.reject(new CommitError(new Error('the store is closed')));
    if (this.queue.length >= this.options.maxQueued) {
      return Promise.reject(new CommitError(new Error(`${this.queue.length} writes are already waiting for the database`)));
    }
    const now = performance.now();
    this.meanGapMs += (Math.min(now - this.lastArrival, GAP_CAP_MS) - this.meanGapMs) / GAP_AVERAGE_OVER;
    this.lastArrival = now;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        fn,
        queuedAt: Date.now(),
        afterCommit: afterCommit as ((value: unknown) => void) | undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.lockedSince !== null) return; // the retry timer drains it
      if (this.queue.length >= this.options.maxOps) this.drain();
      else this.schedule();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  /** True once close() ran: every write is refused from then on. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes waiting, and how long (ms) the write lock has been held by another connection (0 = not). */
  state(): { queued: number; lockedForMs: number } {
    return { queued: this.queue.length, lockedForMs: this.lockedSince === null ? 0 : Date.now() - this.lockedSince };
  }

  /** Commits what is queued (one attempt if the lock is held elsewhere: the rest fail) and refuses further writes. */
  close(): void {
    this.lockedSince = null;
    this.drain();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.closed = true;
    const left = this.queue.splice(0);
    for (const write of left) write.reject(new CommitError(new Error('the store closed while the database was locked by another process')));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      if (this.lockedSince === null) this.drain();
    };
    // Natural batching, as delivery does: waiting for company pays only when it is coming. A
    // write at a few a second would otherwise add the window to every notification's latency.
    if (this.meanGapMs < this.options.windowMs) setTimeout(go, this.options.windowMs);
    else setImmediate(go);
  }

  /** Flushes groups until the queue is empty or the lock is found held elsewhere. */
  private drain(): void {
    while (this.queue.length > 0 && this.flush());
  }

  /** A lock held elsewhere: try again soon (backing off), and fail the writes that waited too long. */
  private waitForLock(): void {
    const now = Date.now();
    this.lockedSince ??= now;
    const expired = this.queue.filter((w) => now - w.queuedAt >= this.options.lockWaitMs);
    if (expired.length > 0) {
      this.queue = this.queue.filter((w) => now - w.queuedAt < this.options.lockWaitMs);
      const error = new CommitError(new Error(`the database is locked by another process (waited ${this.options.lockWaitMs} ms)`));
      for (const write of expired) write.reject(error);
    }
    if (this.queue.length === 0) {
      this.lockedSince = null;
      this.retryMs = LOCK_RETRY_FIRST_MS;
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.drain();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, LOCK_RETRY_MAX_MS);
  }

  /** One group in one transaction; false when the write lock is held elsewhere (the group stays queued). */
  private flush(): boolean {
    const group = this.queue.splice(0, this.options.maxOps);
    if (group.length === 0) return true;
    const started = process.hrtime.bigint();
    const outcomes: { ok: boolean; value?: unknown; error?: unknown }[] = [];
    try {
      this.stmts.begin.run();
    } catch (error) {
      if (isBusy(error)) {
        this.queue.unshift(...group);
        this.waitForLock();
        return false;
      }
      this.report(started, group.length, false);
      for (const write of group) write.reject(new CommitError(error));
      return true;
    }
    this.lockedSince = null;
    this.retryMs = LOCK_RETRY_FIRST_MS;
    try {
      for (const write of group) outcomes.push(this.runOne(write));
      this.stmts.commit.run();
    } catch (error) {
      if (this.db.inTransaction) {
        try {
          this.stmts.rollback.run();
        } catch {
          /* the transaction is already gone */
        }
      }
      this.report(started, group.length, false);
      for (const write of group) write.reject(new CommitError(error));
      return true;
    }
    this.report(started, group.length, true);
    group.forEach((write, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) write.afterCommit?.(outcome.value);
    });
    group.forEach((write, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
    return true;
  }

  private runOne(write: PendingWrite): { ok: boolean; value?: unknown; error?: unknown } {
    this.stmts.savepoint.run();
    try {
      const value = write.fn(this.db);
      this.stmts.release.run();
      return { ok: true, value };
    } catch (error) {
      // SQLITE_FULL, IOERR and the like may have rolled back the whole transaction.
      if (!this.db.inTransaction) throw error;
      this.stmts.rollbackTo.run();
      this.stmts.release.run();
      return { ok: false, error: isStorageFailure(error) ? new CommitError(error) : error };
    }
  }

  private report(started: bigint, size: number, ok: boolean): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.onCommit?.(seconds, size, ok);
  }
}

/** SQLITE_BUSY (and its extended codes): another connection holds the lock. */
function isBusy(error: unknown): boolean {
  return /^SQLITE_BUSY/.test((error as { code?: string })?.code ?? '');
}

/** Errors of the storage itself (disk full, I/O), as opposed to a rule a write broke. */
export function isStorageFailure(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? '';
  return /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB|BUSY|LOCKED|NOMEM)/.test(code);
}
