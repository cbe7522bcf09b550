import type { Db } from './database';

// The single writer: many concurrent requests share one transaction (group commit), and each
// one is answered only after the commit that holds its write.

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
  /** ms the first write of a group waits for company; 0 = the same event-loop turn only. */
  windowMs: number;
  /** Told the duration (s) and size of each committed group, for metrics. */
  onCommit?: (seconds: number, size: number, ok: boolean) => void;
}

interface PendingWrite {
  fn: (db: Db) => unknown;
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
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        fn,
        afterCommit: afterCommit as ((value: unknown) => void) | undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.queue.length >= this.options.maxOps) this.flush();
      else this.schedule();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Commits what is queued and refuses further writes. */
  close(): void {
    while (this.queue.length > 0) this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      while (this.queue.length > 0) this.flush();
    };
    if (this.options.windowMs > 0) setTimeout(go, this.options.windowMs);
    else setImmediate(go);
  }

  private flush(): void {
    const group = this.queue.splice(0, this.options.maxOps);
    if (group.length === 0) return;
    const started = process.hrtime.bigint();
    const outcomes: { ok: boolean; value?: unknown; error?: unknown }[] = [];
    try {
      this.stmts.begin.run();
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
      return;
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

/** Errors of the storage itself (disk full, I/O), as opposed to a rule a write broke. */
export function isStorageFailure(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? '';
  return /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB|BUSY|LOCKED|NOMEM)/.test(code);
}
