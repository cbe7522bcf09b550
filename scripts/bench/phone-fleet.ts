import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { nowMs } from './clock';
import type { FleetWorkerData, FromFleet, ToFleet } from './fleet-messages';
import type { PhoneProgress } from './http-poster';
import { PROGRESS_TICK, type FleetPhaseResult } from './phone-receipts';
import type { FleetSpec } from './system';

// The bench's phones, in worker threads on the client core (each worker its own event loop
// holding up to `phonesPerWorker` sockets), seen from the main thread: connect them, run a
// phase, watch their progress through shared memory, collect the tally.

const WORKER_SCRIPT = path.join(__dirname, 'phone-fleet-worker.js');
/** Phones connecting at once per worker: a phone's TLS handshake costs the server a few ms. */
const CONNECT_CONCURRENCY = 16;

/** Atomics.waitAsync (ES2024; in Node since 16) as TypeScript's ES2022 lib does not declare it. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

/** One worker and its in-order replies. */
class FleetWorker {
  private readonly pending: { resolve: (m: FromFleet) => void; reject: (e: Error) => void }[] = [];
  private dead: Error | null = null;

  constructor(
    readonly worker: Worker,
    onLost: (message: string) => void,
  ) {
    worker.on('message', (message: FromFleet) => {
      if (message.type === 'lost') onLost(message.message);
      else this.pending.shift()?.resolve(message);
    });
    const fail = (error: Error) => {
      this.dead = error;
      for (const p of this.pending.splice(0)) p.reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`phone fleet worker exited with ${code}`)));
  }

  call(message: ToFleet): Promise<FromFleet> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.postMessage(message);
    });
  }
}

/** When the fleet started connecting and when its last phone was connected (nowMs()). */
export interface FleetConnectTimes {
  startedAt: number;
  connectedAt: number;
}

/** N phones of one system, spread over worker threads. */
export class PhoneFleet implements PhoneProgress {
  private readonly lostPhones: string[] = [];
  private readonly workers: FleetWorker[] = [];
  private readonly progress: Int32Array;

  /** Starts the workers; no phone connects before connect(). */
  constructor(
    private readonly spec: FleetSpec,
    phonesPerWorker: number,
  ) {
    const count = spec.tokens.length;
    const shared = new SharedArrayBuffer(4 * (1 + count));
    this.progress = new Int32Array(shared);
    for (let first = 0; first < count; first += phonesPerWorker) {
      const share: FleetWorkerData = {
        spec: { ...spec, tokens: spec.tokens.slice(first, first + phonesPerWorker), urls: spec.urls?.slice(first, first + phonesPerWorker) },
        firstPhone: first,
        progress: shared,
        connectConcurrency: CONNECT_CONCURRENCY,
      };
      this.workers.push(new FleetWorker(new Worker(WORKER_SCRIPT, { workerData: share }), (m) => this.lostPhones.push(m)));
    }
  }

  get size(): number {
    return this.spec.tokens.length;
  }

  /** Connects every phone; rejects with the first phone that could not connect. */
  async connect(): Promise<FleetConnectTimes> {
    const replies = await Promise.all(this.workers.map((w) => w.call({ type: 'connect' })));
    const times = { startedAt: Infinity, connectedAt: 0 };
    for (const r of replies) {
      if (r.type === 'failed') throw new Error(r.message);
      if (r.type !== 'connected') throw new Error(`unexpected fleet reply ${r.type}`);
      times.startedAt = Math.min(times.startedAt, r.startedAt);
      times.connectedAt = Math.max(times.connectedAt, r.connectedAt);
    }
    return times;
  }

  /** Starts counting phase `phase` (posts 0 … capacity-1); receipts of any other phase are strays. */
  async beginPhase(phase: string, capacity: number, trackLatency: boolean): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: 'phase', phase, capacity, trackLatency })));
  }

  /** Unique notifications of the phase the slowest phone has. */
  slowest(): number {
    let min = Infinity;
    for (let i = 1; i < this.progress.length; i++) min = Math.min(min, Atomics.load(this.progress, i));
    return min === Infinity ? 0 : min;
  }

  /** Unique (phone, notification) receipts of the phase so far. */
  received(): number {
    let sum = 0;
    for (let i = 1; i < this.progress.length; i++) sum += Atomics.load(this.progress, i);
    return sum;
  }

  /** Resolves when any phone receives a frame, or after `timeoutMs`. */
  async changed(timeoutMs: number): Promise<void> {
    const tick = Atomics.load(this.progress, PROGRESS_TICK);
    const wait = waitAsync(this.progress, PROGRESS_TICK, tick, timeoutMs);
    if (wait.async) await wait.value;
  }

  /**
   * Waits until every phone has every accepted post (`accepted[i]` = 1 when post i got a 2xx);
   * resolves false at the deadline. Counting receipts is not enough: a post whose answer timed
   * out may still have been accepted and delivered, and its receipts would fill the count.
   */
  async waitForAll(accepted: Uint8Array, timeoutMs: number): Promise<boolean> {
    const deadline = nowMs() + timeoutMs;
    let expected = 0;
    for (const a of accepted) expected += a;
    expected *= this.size;
    for (;;) {
      if (this.received() >= expected && (await this.missing(accepted)) === 0) return true;
      const left = deadline - nowMs();
      if (left <= 0) return false;
      await this.changed(Math.min(left, 200));
    }
  }

  private async missing(accepted: Uint8Array): Promise<number> {
    const replies = await Promise.all(this.workers.map((w) => w.call({ type: 'missing', accepted })));
    return replies.reduce((n, r) => n + (r.type === 'missing' ? r.missing : 0), 0);
  }

  /** Ends the phase and merges every worker's tally (`accepted[i]` = 1 if post i got a 2xx). */
  async endPhase(accepted: Uint8Array): Promise<FleetPhaseResult> {
    const replies = await Promise.all(this.workers.map((w) => w.call({ type: 'end-phase', accepted })));
    const merged: FleetPhaseResult = {
      received: 0,
      duplicates: 0,
      strays: 0,
      missing: 0,
      phonesShort: 0,
      firstAt: Infinity,
      lastAt: 0,
      latencies: new Float64Array(0),
    };
    const latencies: Float64Array[] = [];
    for (const r of replies) {
      if (r.type !== 'phase-result') throw new Error(r.type === 'failed' ? r.message : `unexpected fleet reply ${r.type}`);
      merged.received += r.result.received;
      merged.duplicates += r.result.duplicates;
      merged.strays += r.result.strays;
      merged.missing += r.result.missing;
      merged.phonesShort += r.result.phonesShort;
      merged.example ??= r.result.example;
      merged.firstAt = Math.min(merged.firstAt, r.result.firstAt);
      merged.lastAt = Math.max(merged.lastAt, r.result.lastAt);
      latencies.push(r.result.latencies);
    }
    merged.latencies = new Float64Array(latencies.reduce((n, l) => n + l.length, 0));
    let offset = 0;
    for (const l of latencies) {
      merged.latencies.set(l, offset);
      offset += l.length;
    }
    return merged;
  }

  /** Phones whose socket dropped without the bench closing it. */
  lost(): string[] {
    return [...this.lostPhones];
  }

  /** Closes every phone and ends the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: 'close' }).catch(() => undefined)));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
