/**
 * The pure "when does the next batch leave?" rule of a delivery queue.
 *
 * No timers and no I/O: the caller reports what happened (items queued, queue
 * drained) and asks `decide()` with the current time; scheduling the wake-up
 * is the caller's job.
 */

/** Tunables of the batching rule; every field has a default. */
export interface BatcherOptions {
  /** How long the first item into an empty queue waits for company, in ms. */
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
 * Decides when queued items should leave as a batch. A window of `windowMs`
 * opens when the first item lands in an empty queue; a batch leaves when the
 * window ends, or at once when `maxBatch` items wait, or at once when the
 * highest waiting item is urgent. `forceDue()` makes everything due until the
 * queue next drains (backlog flushes, resends).
 *
 * @example
 * const batcher = new Batcher({ windowMs: 25 });
 * batcher.onQueued(1000, 0);               // first item into an empty queue
 * batcher.decide(1010, 1, 1);              // { kind: 'wait', delayMs: 15 }
 * batcher.decide(1025, 1, 1);              // { kind: 'send' }
 * batcher.onDrained();                     // queue empty again: window closed
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

  /** Time the current window opened, or null when no window is open. */
  get windowOpenedAt(): number | null {
    return this.windowStart;
  }

  /** Reports that an item was queued; `waitingBefore` is how many waited just before. An empty queue opens a fresh window. */
  onQueued(now: number, waitingBefore: number): void {
    if (waitingBefore > 0) return;
    this.windowStart = now;
    this.forced = false;
  }

  /** Reports that the queue is empty: the window closes and any forcing ends. */
  onDrained(): void {
    this.windowStart = null;
    this.forced = false;
  }

  /** Makes waiting items due immediately until the queue next drains. */
  forceDue(): void {
    this.forced = true;
  }

  /** Whether a batch should leave now given `waiting` items whose best priority is `topPriority`. */
  decide(now: number, waiting: number, topPriority: number | undefined): BatchDecision {
    if (waiting <= 0) return { kind: 'idle' };
    const { windowMs, maxBatch, urgentPriority } = this.options;
    if (this.forced || waiting >= maxBatch) return { kind: 'send' };
    if (topPriority !== undefined && topPriority >= urgentPriority) return { kind: 'send' };
    // Items waiting without an open window can only come from misuse; never strand them.
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
