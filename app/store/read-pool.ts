import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ReadReply, ReadRequest } from './read-worker';

// A small pool of query-only connections (worker threads) for queries that can run beside the
// writer: history, device lists, the WAL checkpoint. Workers start when a query needs one and
// end after a while without work, so an idle daemon holds none. Acquisition time and health are
// exposed for metrics.

/**
 * MB of young generation a read worker's V8 heap may grow to. A worker only runs a query and
 * posts its rows, so its garbage is short-lived and small; V8's default young generation (tens
 * of MB per isolate) let each busy worker add that much RSS during a catch-up.
 */
const WORKER_YOUNG_GEN_MB = 4;

export interface ReadPoolOptions {
  file: string;
  /** At most this many workers at once. */
  size: number;
  /** ms a worker may sit without a query before it ends (0 = never). */
  idleMs: number;
  /** The compiled worker script; defaults to the one next to this file. */
  workerFile?: string;
  /** Told how long (s) each query waited for a free connection. */
  onAcquire?: (seconds: number) => void;
}

interface Job {
  request: Omit<ReadRequest, 'id'>;
  queuedAt: bigint;
  resolve: (rows: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Job | null;
  /** epoch ms of its last answer (or its start). */
  idleSince: number;
}

/** A read failed inside a worker (or the worker died). */
export class ReadError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ReadError';
  }
}

/**
 * Runs SELECTs on worker threads, started on demand.
 *
 *   const rows = await pool.all<Row>('SELECT * FROM notifications WHERE seq < ? LIMIT ?', [before, 50]);
 */
export class ReadPool {
  private slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;
  private reaper: NodeJS.Timeout | null = null;
  /** Why the last worker died unasked (cleared by the next answer): health reads it. */
  private lastFailure: string | null = null;

  constructor(private readonly options: ReadPoolOptions) {}

  all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.submit({ sql, params, mode: 'all' }) as Promise<T[]>;
  }

  get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return this.submit({ sql, params, mode: 'get' }) as Promise<T | undefined>;
  }

  /** A round trip through a worker when one is running; none is started just for this. */
  async ping(): Promise<void> {
    if (this.slots.length > 0) await this.get('SELECT 1');
  }

  /** Workers running (at most `size`), busy, queries waiting for one, and the last unasked death. */
  stats(): { size: number; alive: number; busy: number; waiting: number; lastFailure: string | null } {
    return {
      size: this.options.size,
      alive: this.slots.length,
      busy: this.slots.filter((s) => s.busy).length,
      waiting: this.waiting.length,
      lastFailure: this.lastFailure,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reaper) clearTimeout(this.reaper);
    for (const job of this.waiting.splice(0)) job.reject(new ReadError('the read pool is closed'));
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private submit(request: Omit<ReadRequest, 'id'>): Promise<unknown> {
    if (this.closed) return Promise.reject(new ReadError('the read pool is closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, queuedAt: process.hrtime.bigint(), resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && !this.closed) {
      const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.options.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.waiting.shift()!;
      slot.busy = job;
      slot.worker.ref(); // a query in flight keeps the process alive until it is answered
      this.options.onAcquire?.(Number(process.hrtime.bigint() - job.queuedAt) / 1e9);
      slot.worker.postMessage({ ...job.request, id: this.nextId++ } satisfies ReadRequest);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.options.workerFile ?? path.join(__dirname, 'read-worker.js'), {
      workerData: { file: this.options.file },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GEN_MB },
    });
    const slot: Slot = { worker, busy: null, idleSince: Date.now() };
    worker.on('message', (reply: ReadReply) => {
      const job = slot.busy;
      slot.busy = null;
      slot.worker.unref(); // an idle worker never does
      slot.idleSince = Date.now();
      this.lastFailure = null;
      if (job) {
        if (reply.error) job.reject(new ReadError(reply.error.message, reply.error.code));
        else job.resolve(reply.rows);
      }
      this.dispatch();
      this.armReaper();
    });
    worker.on('error', (error) => this.lose(slot, error));
    worker.on('exit', () => this.lose(slot, new Error('read worker exited')));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** A worker gone (crashed, or ended by the reaper): its job fails; the next query starts another. */
  private lose(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    if (this.closed) return;
    this.lastFailure = error.message;
    slot.busy?.reject(new ReadError(error.message));
    slot.busy = null;
    this.dispatch();
  }

  /** One timer for the pool: ends the workers idle for `idleMs`, re-armed while any runs. */
  private armReaper(): void {
    if (this.reaper || this.options.idleMs <= 0 || this.closed) return;
    this.reaper = setTimeout(() => {
      this.reaper = null;
      const now = Date.now();
      for (const slot of this.slots.filter((s) => !s.busy && now - s.idleSince >= this.options.idleMs)) {
        this.slots.splice(this.slots.indexOf(slot), 1);
        slot.worker.postMessage({ id: 0, sql: '', params: [], mode: 'close' } satisfies ReadRequest);
      }
      if (this.slots.length > 0) this.armReaper();
    }, this.options.idleMs);
    this.reaper.unref();
  }
}
