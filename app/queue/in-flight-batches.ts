/**
 * Ledger of batches sent to a device and not yet acknowledged, each with its
 * redelivery deadline. Pure: deadlines run on the injected `Timers`.
 */
import type { Timers } from './timers';

/** One unacknowledged batch: its still-unsettled seqs (an array: a batch is small, and most are acked whole) and its redelivery timer. */
interface OpenBatch {
  seqs: number[];
  timer: unknown;
}

/**
 * Tracks unacknowledged batches so the queue can cap them and redeliver the
 * ones that time out. When a batch's deadline passes it is dropped and
 * `onExpire` receives the seqs that were still unsettled in it.
 *
 * @example
 * const inFlight = new InFlightBatches(timers, 10_000, (batchId, seqs) => requeue(seqs));
 * inFlight.open(1, [10, 11]);
 * inFlight.removeSeq(1, 10);  // settled elsewhere; batch 1 still waits for 11
 * inFlight.take(1);           // ack arrived: [11], timer cancelled
 */
export class InFlightBatches {
  private readonly batches = new Map<number, OpenBatch>();
  /** Unsettled seqs across all open batches, kept as they change: read on every arrival. */
  private items = 0;

  constructor(
    private readonly timers: Timers,
    private readonly expireAfterMs: number,
    private readonly onExpire: (batchId: number, seqs: number[]) => void,
  ) {}

  /** Number of open (unacknowledged, unexpired, non-empty) batches. */
  get size(): number {
    return this.batches.size;
  }

  /** Unsettled seqs across all open batches. */
  get itemCount(): number {
    return this.items;
  }

  /** Records a batch just sent and starts its redelivery deadline; the array becomes the ledger's (not copied). */
  open(batchId: number, seqs: number[]): void {
    const timer = this.timers.setTimeout(() => {
      const batch = this.batches.get(batchId);
      if (batch === undefined) return;
      this.batches.delete(batchId);
      this.items -= batch.seqs.length;
      this.onExpire(batchId, batch.seqs);
    }, this.expireAfterMs);
    const open = { seqs, timer };
    this.batches.set(batchId, open);
    this.items += open.seqs.length;
  }

  /** A batch's still-unsettled seqs (read only), or undefined if it is not open. */
  seqsOf(batchId: number): readonly number[] | undefined {
    return this.batches.get(batchId)?.seqs;
  }

  /** Closes a batch (acknowledged) and returns its still-unsettled seqs, or undefined if it is not open. */
  take(batchId: number): number[] | undefined {
    const batch = this.batches.get(batchId);
    if (batch === undefined) return undefined;
    this.batches.delete(batchId);
    this.items -= batch.seqs.length;
    this.timers.clearTimeout(batch.timer);
    return batch.seqs;
  }

  /** Forgets a settled seq; a batch left with nothing to wait for is closed. */
  removeSeq(batchId: number, seq: number): void {
    const batch = this.batches.get(batchId);
    if (batch === undefined) return;
    const at = batch.seqs.indexOf(seq);
    if (at < 0) return;
    batch.seqs.splice(at, 1);
    this.items--;
    if (batch.seqs.length > 0) return;
    this.batches.delete(batchId);
    this.timers.clearTimeout(batch.timer);
  }

  /** Cancels every redelivery deadline (queue closing); batches stay recorded. */
  cancelTimers(): void {
    for (const batch of this.batches.values()) this.timers.clearTimeout(batch.timer);
  }
}
