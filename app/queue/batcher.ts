/**
 * The pure "when does the next batch leave?" rule of a delivery queue.
 *
 * No timers and no I/O: the caller reports what happened (items queued, queue
 * drained) and asks `decide()` with the current time and how many batches
 * wait for an ack; scheduling the wake-up is the caller's job.
 */

/** Tunables of the batching rule; every field has a default. */
export interface BatcherOptions {
  /** The longest an item waits for company while batches are unacknowledged, in ms (a cap, never a wait when idle). */
  windowMs: number;
  /** A batch leaves at once when this many items are waiting; also the batch size cap. */
  maxBatch: number;
  /** A batch leaves at once when the highest waiting priority is at least this. */
  urgentPriority: number;
}

/** Defaults used when an option is omitted, shared so callers and docs agree. */
export const BATCHER_DEFAULTS: Readonly<BatcherOptions> = Object.freeze({
  windowMs: 25,
  maxBatch: 64,
  urgentPriority: 5,
});

/** Outcome of `Batcher.decide`: nothing waiting, send now, or wake up again after `delayMs`. */
export type BatchDecision =
  | { kind: 'idle' }
  | { kind: 'send' }
  | { kind: 'wait'; delayMs: number };

/**
 * Natural batching. A device with nothing in flight gets what waits at once: a lone
 * notification never waits for company. While batches are unacknowledged, new items
 * gather for the next batch, which leaves when an ack arrives (the owner calls
 * `forceDue()`), when `maxBatch` items wait, when the highest waiting item is
 * urgent, or at the latest `windowMs` after the first of them started waiting.
 * `forceDue()` makes everything due until the queue next drains (acks, backlog
 * flushes, resends).
 *
 * @example
 * const batcher = new Batcher({ windowMs: 25 });
 * batcher.onQueued(1000, 0);               // first item into an empty queue
 * batcher.decide(1000, 1, 1, 0);           // { kind: 'send' }: nothing in flight
 * batcher.onDrained();                     // it left; the queue is empty again
 * batcher.onQueued(1002, 0);               // the next one, while that batch waits for its ack
 * batcher.decide(1010, 1, 1, 1);           // { kind: 'wait', delayMs: 17 }
 * batcher.forceDue();                      // an ack came: what gathered leaves now
 * batcher.decide(1011, 1, 1, 1);           // { kind: 'send' }
 */
export class Batcher {
  readonly options: Readonly<BatcherOptions>;
  private windowStart: number | null = null;
  private forced = false;

  constructor(options: Partial<BatcherOptions> = {}) {
    const merged = { ...BATCHER_DEFAULTS, ...definedOnly(options) };
    if (!(merged.windowMs >= 0)) throw new RangeError(`windowMs must be >= 0, got ${merged.windowMs}`);
    if (!Number.isInteger(merged.maxBatch) || merged.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${merged.maxBatch}`);
    }
    if (Number.isNaN(merged.urgentPriority)) throw new RangeError('urgentPriority must be a number');
    this.options = Object.freeze(merged);
  }

  /** Time the first waiting item was queued, or null when nothing waits. */
  get windowOpenedAt(): number | null {
    return this.windowStart;
  }

  /** Reports that an item was queued; `waitingBefore` is how many waited just before. An empty queue starts a fresh wait. */
  onQueued(now: number, waitingBefore: number): void {
    if (waitingBefore > 0) return;
    this.windowStart = now;
    this.forced = false;
  }

  /** Reports that the queue is empty: the wait ends and any forcing ends. */
  onDrained(): void {
    this.windowStart = null;
    this.forced = false;
  }

  /** Makes waiting items due immediately until the queue next drains. */
  forceDue(): void {
    this.forced = true;
  }

  /** Whether a batch should leave now, given `waiting` items whose best priority is `topPriority` and `inFlight` unacknowledged batches. */
  decide(now: number, waiting: number, topPriority: number | undefined, inFlight: number): BatchDecision {
    if (waiting <= 0) return { kind: 'idle' };
    const { windowMs, maxBatch, urgentPriority } = this.options;
    if (this.forced || inFlight <= 0 || waiting >= maxBatch) return { kind: 'send' };
    if (topPriority !== undefined && topPriority >= urgentPriority) return { kind: 'send' };
    // Items waiting without a start time can only come from misuse; never strand them.
    if (this.windowStart === null) return { kind: 'send' };
    const remaining = this.windowStart + windowMs - now;
    return remaining <= 0 ? { kind: 'send' } : { kind: 'wait', delayMs: remaining };
  }
}

function definedOnly(options: Partial<BatcherOptions>): Partial<BatcherOptions> {
  const out: Partial<BatcherOptions> = {};
  if (options.windowMs !== undefined) out.windowMs = options.windowMs;
  if (options.maxBatch !== undefined) out.maxBatch = options.maxBatch;
  if (options.urgentPriority !== undefined) out.urgentPriority = options.urgentPriority;
  return out;
}
