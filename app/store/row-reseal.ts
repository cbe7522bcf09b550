import type { Db } from './database';
import type { GroupWriter } from './group-writer';
import { resealRow, type SealedColumns } from './row-seal';
import type { FieldSealer } from './rows';

// The online conversion of notification rows written in the four-seal format (before one seal
// per row, row-seal.ts) — rows of an older database or of a restored backup. It starts after
// the data keys are loaded and converts a small batch per transaction through the group
// writer, so ingest keeps its turn. It needs no progress row: a converted row leaves the partial
// index of unconverted rows (migration 009), so a daemon killed halfway simply goes on at the
// next start. A key rotation converts the rows it passes too.

export interface RowResealOptions {
  batchSize: number;
  /** ms between two batches. */
  pauseMs: number;
  /** ms before a batch that could not be committed (the database locked elsewhere) is tried again. */
  retryMs: number;
  /** Told how many rows were converted, and how many could not be opened (left as they were). */
  onFinished?: (converted: number, unreadable: number) => void;
  onError?: (error: unknown) => void;
}

type Row = SealedColumns & { seq: number };

/**
 * Converts every row still in the four-seal format.
 *
 *   const reseal = new RowReseal(db, writer, cipher, { batchSize: 200, pauseMs: 0, retryMs: 5000 });
 *   reseal.start(); // after cipher.load(...); a no-op when nothing is left to convert
 */
export class RowReseal {
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private readonly stmts;

  constructor(
    db: Db,
    private readonly writer: GroupWriter,
    private readonly sealer: FieldSealer,
    private readonly options: RowResealOptions,
  ) {
    this.stmts = {
      page: db.prepare(
        'SELECT seq, id, sealed, title, body, app, tags, url, icon FROM notifications WHERE sealed IS NULL AND seq > ? ORDER BY seq LIMIT ?',
      ),
      any: db.prepare('SELECT 1 FROM notifications WHERE sealed IS NULL LIMIT 1'),
      update: db.prepare(
        'UPDATE notifications SET sealed = @sealed, title = @title, body = @body, app = @app, tags = @tags, url = @url, icon = @icon WHERE seq = @seq AND sealed IS NULL',
      ),
    };
  }

  /** Rows left in the four-seal format? */
  pending(): boolean {
    return this.stmts.any.get() !== undefined;
  }

  /** Starts converting in the background (no-op when running or when nothing is left). */
  start(): void {
    if (this.running || this.stopped || !this.pending()) return;
    this.running = true;
    void this.loop().finally(() => (this.running = false));
  }

  /** Stops after the batch in progress (the store is closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let cursor = 0;
    let converted = 0;
    let unreadable = 0;
    while (!this.stopped) {
      let batch: { last: number | null; converted: number; unreadable: number };
      try {
        batch = await this.writer.run(() => this.step(cursor));
      } catch (error) {
        if (this.stopped || this.writer.isClosed) return; // the store is closing: the next start goes on
        this.options.onError?.(error);
        if ((error as Error)?.name !== 'CommitError') return; // resumes at the next start
        await this.sleep(this.options.retryMs);
        continue;
      }
      if (batch.last === null) {
        this.options.onFinished?.(converted, unreadable);
        return;
      }
      cursor = batch.last;
      converted += batch.converted;
      unreadable += batch.unreadable;
      if (this.options.pauseMs > 0) await this.sleep(this.options.pauseMs);
    }
  }

  /** One batch inside a transaction: the last seq looked at (null when none was left). */
  private step(after: number): { last: number | null; converted: number; unreadable: number } {
    const rows = this.stmts.page.all(after, this.options.batchSize) as Row[];
    let converted = 0;
    let unreadable = 0;
    for (const row of rows) {
      let columns;
      try {
        columns = resealRow(this.sealer, row);
      } catch (error) {
        // A row that does not open stays as it is (reading it fails the same way); the rest go on.
        unreadable += 1;
        this.options.onError?.(new Error(`notification ${row.seq} cannot be opened: ${(error as Error).message}`));
        continue;
      }
      if (columns) converted += this.stmts.update.run({ ...columns, seq: row.seq }).changes;
    }
    return { last: rows.length ? rows[rows.length - 1].seq : null, converted, unreadable };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    }).then(() => {
      this.timer = null;
      this.wake = null;
    });
  }
}
