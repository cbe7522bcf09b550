/**
 * Deterministic fake of the queue's `Timers` seam for unit tests.
 */
import type { Timers } from '../../../app/queue/timers';

/** One scheduled callback; `order` breaks ties between timers due at the same instant. */
interface Scheduled {
  id: number;
  due: number;
  order: number;
  fn: () => void;
}

/**
 * Fake clock whose time only moves when the test calls `advance(ms)`; due
 * callbacks then run in time order (ties in scheduling order), each seeing
 * `now()` equal to its own due time. Callbacks scheduled while advancing run
 * in the same call if they fall due before its end.
 *
 * @example
 * const timers = new ManualTimers();
 * timers.setTimeout(() => log.push('a'), 10);
 * timers.advance(9);  // nothing yet
 * timers.advance(1);  // runs 'a' with now() === 10
 */
export class ManualTimers implements Timers {
  private current = 0;
  private nextId = 1;
  private readonly scheduled = new Map<number, Scheduled>();

  constructor(start = 0) {
    this.current = start;
  }

  /** Current fake time in ms. */
  now(): number {
    return this.current;
  }

  /** Schedules `fn` at now + max(0, ms); returns a numeric handle. */
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.scheduled.set(id, { id, due: this.current + Math.max(0, ms), order: id, fn });
    return id;
  }

  /** Cancels a pending callback; unknown handles are ignored. */
  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.scheduled.delete(handle);
  }

  /** Number of callbacks still scheduled (lets tests check that close() cancels everything). */
  get pendingCount(): number {
    return this.scheduled.size;
  }

  /** Due time of the earliest scheduled callback, if any. */
  nextDue(): number | undefined {
    return this.earliest()?.due;
  }

  /**
   * Moves time forward by `ms`, running every callback that falls due, in order.
   * Throws after `maxCallbacks` so a runaway zero-delay timer loop fails the test instead of hanging it.
   */
  advance(ms: number, maxCallbacks = 100_000): void {
    if (ms < 0) throw new RangeError('cannot go back in time');
    const target = this.current + ms;
    let ran = 0;
    for (let next = this.earliest(); next !== undefined && next.due <= target; next = this.earliest()) {
      if (++ran > maxCallbacks) throw new Error(`more than ${maxCallbacks} timer callbacks in one advance`);
      this.scheduled.delete(next.id);
      this.current = next.due;
      next.fn();
    }
    this.current = target;
  }

  /** Runs callbacks until none remain (bounded, to catch self-rescheduling loops). */
  runAll(maxCallbacks = 10_000): void {
    for (let i = 0; i < maxCallbacks; i++) {
      const next = this.earliest();
      if (next === undefined) return;
      this.advance(next.due - this.current);
    }
    throw new Error(`timers still pending after ${maxCallbacks} callbacks`);
  }

  private earliest(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const s of this.scheduled.values()) {
      if (best === undefined || s.due < best.due || (s.due === best.due && s.order < best.order)) best = s;
    }
    return best;
  }
}
