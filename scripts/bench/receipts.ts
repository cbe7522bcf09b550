import { performance } from 'node:perf_hooks';

// What the bench's clients received: each notification's body carries its phase, index and
// send time, so both systems are counted (deduplicated per client) and timed the same way.

/** The body every posted notification carries: `<phase>:<index>:<send time, performance.now() ms>`. */
export function encodeBody(phase: string, index: number, sentAtMs: number): string {
  return `${phase}:${index}:${sentAtMs.toFixed(3)}`;
}

/** Receipts of one phase: which (client, notification) pairs arrived, duplicates, latencies. */
export class PhaseReceipts {
  /** Unique (client, notification) receipts. */
  received = 0;
  /** Receipts of a pair that had already arrived (Beep redeliveries; the baseline has none). */
  duplicates = 0;
  /** performance.now() of the latest unique receipt. */
  lastAt = 0;
  private readonly seen: Uint8Array;
  private readonly latencies: Float64Array | null;
  private latencyCount = 0;

  constructor(
    readonly phase: string,
    readonly clients: number,
    readonly capacity: number,
    trackLatency: boolean,
  ) {
    this.seen = new Uint8Array(clients * capacity);
    this.latencies = trackLatency ? new Float64Array(clients * capacity) : null;
  }

  /** One notification of this phase arrived at `client` at `atMs` (performance.now() ms). */
  record(client: number, index: number, sentAtMs: number, atMs: number): void {
    const slot = client * this.capacity + index;
    if (this.seen[slot]) {
      this.duplicates++;
      return;
    }
    this.seen[slot] = 1;
    this.received++;
    if (atMs > this.lastAt) this.lastAt = atMs;
    if (this.latencies) this.latencies[this.latencyCount++] = atMs - sentAtMs;
  }

  /** Latency samples in ms (receipt time minus send time), one per unique receipt. */
  latencySamples(): Float64Array {
    return this.latencies ? this.latencies.subarray(0, this.latencyCount) : new Float64Array(0);
  }

  /** Receipts still missing for the posted notifications that were accepted. */
  missing(accepted: Uint8Array): number {
    let missing = 0;
    for (let index = 0; index < this.capacity; index++) {
      if (!accepted[index]) continue;
      for (let client = 0; client < this.clients; client++) if (!this.seen[client * this.capacity + index]) missing++;
    }
    return missing;
  }
}

/** The one place clients report to; the bench points it at the running phase's receipts. */
export class ReceiptSink {
  current: PhaseReceipts | null = null;
  /** Receipts of no running phase (late redeliveries of an earlier phase) or with an unreadable body. */
  strays = 0;

  /** Called by a client for each notification body it receives. */
  record(client: number, body: unknown, atMs = performance.now()): void {
    const phase = this.current;
    if (typeof body !== 'string' || phase === null) {
      this.strays++;
      return;
    }
    const first = body.indexOf(':');
    const second = body.indexOf(':', first + 1);
    const index = Number(body.slice(first + 1, second));
    if (body.slice(0, first) !== phase.phase || !(index >= 0 && index < phase.capacity)) {
      this.strays++;
      return;
    }
    phase.record(client, index, Number(body.slice(second + 1)), atMs);
  }
}
