import { decodeBody } from './body';

// What one fleet's phones received in the current phase: unique (phone, notification) pairs,
// duplicates (Beep redelivers what was not acked in time), latencies, and each phone's count
// in shared memory so the poster on the main thread can keep its window.

/** A fleet's tally of one phase, sent back to the main thread when the phase ends. */
export interface FleetPhaseResult {
  received: number;
  duplicates: number;
  /** Receipts of another phase or with a body that is not the bench's. */
  strays: number;
  /** (phone, accepted notification) pairs that never arrived. */
  missing: number;
  /** Phones missing at least one, and one example "phone <n> lacks post <i>" (for the report). */
  phonesShort: number;
  example?: string;
  /** nowMs() of the first and last unique receipt (Infinity / 0 when none). */
  firstAt: number;
  lastAt: number;
  /** Receipt time minus send time (ms) per unique receipt, when the phase tracks latency. */
  latencies: Float64Array;
}

/** Layout of the shared progress array: [0] is bumped (and waiters woken) after frames arrive, [1 + phone] = that phone's unique receipts. */
export const PROGRESS_TICK = 0;

/** The receipts of one phase for the phones `firstPhone … firstPhone + phones - 1`. */
export class PhoneReceipts {
  private received = 0;
  private duplicates = 0;
  private strays = 0;
  private firstAt = Infinity;
  private lastAt = 0;
  private readonly seen: Uint8Array;
  private readonly latencies: Float64Array | null;
  private latencyCount = 0;

  constructor(
    private readonly phase: string,
    private readonly phones: number,
    private readonly capacity: number,
    trackLatency: boolean,
    private readonly progress: Int32Array,
    private readonly firstPhone: number,
  ) {
    this.seen = new Uint8Array(phones * capacity);
    this.latencies = trackLatency ? new Float64Array(phones * capacity) : null;
    for (let phone = 0; phone < phones; phone++) Atomics.store(progress, 1 + firstPhone + phone, 0);
  }

  /** One notification body arrived at local phone `phone` at `atMs`. */
  record(phone: number, body: unknown, atMs: number): void {
    const decoded = decodeBody(body);
    if (!decoded || decoded.phase !== this.phase || decoded.index >= this.capacity) {
      this.strays++;
      return;
    }
    const slot = phone * this.capacity + decoded.index;
    if (this.seen[slot]) {
      this.duplicates++;
      return;
    }
    this.seen[slot] = 1;
    this.received++;
    if (atMs < this.firstAt) this.firstAt = atMs;
    if (atMs > this.lastAt) this.lastAt = atMs;
    if (this.latencies) this.latencies[this.latencyCount++] = atMs - decoded.sentAtMs;
    Atomics.add(this.progress, 1 + this.firstPhone + phone, 1);
  }

  /** (phone, accepted notification) pairs not received yet; `accepted[i]` = 1 for each post that got a 2xx. */
  missing(accepted: Uint8Array): number {
    let missing = 0;
    for (let phone = 0; phone < this.phones; phone++) {
      for (let index = 0; index < Math.min(accepted.length, this.capacity); index++) {
        if (accepted[index] && !this.seen[phone * this.capacity + index]) missing++;
      }
    }
    return missing;
  }

  /** The tally; `accepted[i]` = 1 for each post that got a 2xx, so missing pairs can be counted. */
  result(accepted: Uint8Array): FleetPhaseResult {
    let missing = 0;
    let phonesShort = 0;
    let example: string | undefined;
    for (let phone = 0; phone < this.phones; phone++) {
      let short = 0;
      for (let index = 0; index < Math.min(accepted.length, this.capacity); index++) {
        if (!accepted[index] || this.seen[phone * this.capacity + index]) continue;
        short++;
        example ??= `phone ${this.firstPhone + phone} lacks post ${index}`;
      }
      missing += short;
      if (short > 0) phonesShort++;
    }
    return {
      received: this.received,
      duplicates: this.duplicates,
      strays: this.strays,
      missing,
      phonesShort,
      example,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      latencies: this.latencies ? this.latencies.slice(0, this.latencyCount) : new Float64Array(0),
    };
  }
}
