import fs from 'node:fs';

// WAL checkpoints off the event loop. The writer connection never checkpoints
// (wal_autocheckpoint = 0, database.ts): after a large backlog SQLite's automatic checkpoint
// would copy megabytes inside a COMMIT on the main thread. Instead, after commits, the WAL's
// size is looked at (at most once per `checkEveryMs`, asynchronously) and past `walBytes` a
// PASSIVE checkpoint runs on a read-pool worker. When it copied every frame, a TRUNCATE
// checkpoint follows on the same worker: it has nothing left to copy and only empties the WAL
// file. The writer never cuts the file itself (journal_size_limit = -1): cutting a WAL of tens of
// megabytes inside its next COMMIT blocked the loop for 80–210 ms (a catch-up after a kill -9).

/** Where the checkpoint runs: a connection off the main thread (the read pool). */
export interface CheckpointRunner {
  get<T>(sql: string): Promise<T | undefined>;
}

/** What `PRAGMA wal_checkpoint` answers: busy, frames in the WAL, frames copied into the file. */
export interface CheckpointOutcome {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface CheckpointerOptions {
  walFile: string;
  /** bytes of WAL file past which a checkpoint runs. */
  walBytes: number;
  /** ms between two looks at the WAL's size. */
  checkEveryMs: number;
  onCheckpoint?: (outcome: CheckpointOutcome) => void;
  onError?: (error: unknown) => void;
}

/**
 * Keeps the WAL short without stalling the loop.
 *
 *   const checkpointer = new Checkpointer(pool, { walFile: 'beep.db-wal', walBytes: 4 << 20, checkEveryMs: 1000 });
 *   writer.onCommit = () => checkpointer.committed();
 */
export class Checkpointer {
  private lastCheck = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private closed = false;

  constructor(
    private readonly runner: CheckpointRunner,
    private readonly options: CheckpointerOptions,
  ) {}

  /** After each commit: a look now, or a trailing one when the last look is too recent. */
  committed(): void {
    if (this.running || this.timer || this.closed) return;
    const wait = this.lastCheck + this.options.checkEveryMs - Date.now();
    if (wait <= 0) return this.check();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check();
    }, wait);
    this.timer.unref();
  }

  /**
   * A TRUNCATE checkpoint now, whatever the WAL's size: every page goes into the file and the WAL
   * is emptied, so older versions of rewritten pages leave the disk (after a re-seal). It waits
   * for readers on the worker; the writer meanwhile finds the lock taken and retries off the loop.
   */
  truncate(): void {
    if (this.closed) return;
    this.running = true;
    this.checkpoint('TRUNCATE');
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private check(): void {
    if (this.closed) return;
    this.lastCheck = Date.now();
    this.running = true;
    fs.stat(this.options.walFile, (error, stat) => {
      if (error || stat.size < this.options.walBytes || this.closed) {
        this.running = false;
        return;
      }
      this.checkpoint();
    });
  }

  private checkpoint(mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE'): void {
    this.runner
      .get<CheckpointOutcome>(`PRAGMA wal_checkpoint(${mode})`)
      .then(async (outcome) => {
        if (!outcome) return;
        this.options.onCheckpoint?.(outcome);
        // Every frame is in the database file: empty the WAL file here, off the loop (the writer
        // meanwhile finds the lock taken and retries off the loop too). Not done: the next look tries again.
        if (mode === 'PASSIVE' && outcome.busy === 0 && outcome.checkpointed === outcome.log && !this.closed) {
          const truncated = await this.runner.get<CheckpointOutcome>('PRAGMA wal_checkpoint(TRUNCATE)');
          if (truncated) this.options.onCheckpoint?.(truncated);
        }
      })
      .catch((e) => this.options.onError?.(e))
      .finally(() => (this.running = false));
  }
}
