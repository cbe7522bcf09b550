import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ReadReply, ReadRequest } from './read-worker';

// A small pool of read-only connections (worker threads) for queries that can run beside the
// writer: history, device lists. Acquisition time and health are exposed for metrics.

export interface ReadPoolOptions {
  file: string;
  size: number;
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
  alive: boolean;
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
 * Runs SELECTs on worker threads.
 *
 *   const rows = await pool.all<Row>('SELECT * FROM notifications WHERE seq < ? LIMIT ?', [before, 50]);
 */
export class ReadPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ReadPoolOptions) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.submit({ sql, params, mode: 'all' }) as Promise<T[]>;
  }

  get<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return this.submit({ sql, params, mode: 'get' }) as Promise<T | undefined>;
  }

  /** Connections alive, busy, and queries waiting for one. */
  stats(): { size: number; alive: number; busy: number; waiting: number } {
    return {
      size: this.slots.length,
      alive: this.slots.filter((s) => s.alive).length,
      busy: this.slots.filter((s) => s.busy).length,
      waiting: this.waiting.length,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new ReadError('the read pool is closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private submit(request: Omit<ReadRequest, 'id'>): Promise<unknown> {
    if (this.closed) return Promise.reject(new ReadError('the read pool is closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, queuedAt: process.hrtime.bigint(), resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.waiting.length === 0) return;
      if (!slot.alive || slot.busy) continue;
      const job = this.waiting.shift()!;
      slot.busy = job;
      this.options.onAcquire?.(Number(process.hrtime.bigint() - job.queuedAt) / 1e9);
      slot.worker.postMessage({ ...job.request, id: this.nextId++ } satisfies ReadRequest);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.options.workerFile ?? path.join(__dirname, 'read-worker.js'), { workerData: { file: this.options.file } });
    const slot: Slot = { worker, busy: null, alive: true };
    worker.on('message', (reply: ReadReply) => {
      const job = slot.busy;
      slot.busy = null;
      if (job) {
        if (reply.error) job.reject(new ReadError(reply.error.message, reply.error.code));
        else job.resolve(reply.rows);
      }
      this.dispatch();
    });
    worker.on('error', (error) => this.replace(slot, error));
    worker.on('exit', () => {
      if (!this.closed && slot.alive) this.replace(slot, new Error('read worker exited'));
    });
    worker.unref();
    return slot;
  }

  /** A dead worker fails its job and is replaced, so the pool heals itself. */
  private replace(slot: Slot, error: Error): void {
    if (!slot.alive) return;
    slot.alive = false;
    slot.busy?.reject(new ReadError(error.message));
    slot.busy = null;
    if (this.closed) return;
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots[index] = this.spawn();
    this.dispatch();
  }
}
