/**
 * Many coarse timers on one real one: the delivery queues of every device arm a redelivery
 * deadline per batch and a cap per gathering, so per frame this is a Set insert and delete
 * instead of a Node timer each.
 */
import { BinaryHeap } from './binary-heap';
import type { Timers } from './timers';

interface Entry {
  fn: () => void;
  slot: number;
}

/**
 * A `Timers` whose callbacks run on a grid of `tickMs`: each fires at the first tick at or
 * after its due time (so up to `tickMs` late, never early), all from one timer of `base`
 * armed for the earliest non-empty tick.
 *
 * @example
 * const wheel = new TimerWheel(systemTimers, 5);
 * const handle = wheel.setTimeout(() => resend(batch), 10_000);
 * wheel.clearTimeout(handle);   // acked: a Set delete, no timer touched
 */
export class TimerWheel implements Timers {
  private readonly slots = new Map<number, Set<Entry>>();
  /** Slot numbers with entries, earliest first (a cleared slot stays until it surfaces). */
  private readonly order = new BinaryHeap<number>((a, b) => a - b);
  private armedSlot: number | null = null;
  private armed: unknown;
  /** The slot being run, while callbacks run: what they schedule goes to a later one. */
  private running: number | null = null;

  constructor(
    private readonly base: Timers,
    private readonly tickMs: number,
  ) {
    if (!(tickMs > 0)) throw new RangeError(`tickMs must be > 0, got ${tickMs}`);
  }

  now(): number {
    return this.base.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    let slot = Math.ceil((this.base.now() + Math.max(0, ms)) / this.tickMs);
    if (this.running !== null) slot = Math.max(slot, this.running + 1);
    let entries = this.slots.get(slot);
    if (!entries) {
      this.slots.set(slot, (entries = new Set()));
      this.order.push(slot);
    }
    const entry: Entry = { fn, slot };
    entries.add(entry);
    if (this.running === null && (this.armedSlot === null || slot < this.armedSlot)) this.arm(slot);
    return entry;
  }

  clearTimeout(handle: unknown): void {
    const entry = handle as Entry | undefined;
    const entries = entry && this.slots.get(entry.slot);
    if (!entries?.delete(entry!) || entries.size > 0) return;
    this.slots.delete(entry!.slot);
  }

  /** Callbacks scheduled and not yet run or cleared (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const entries of this.slots.values()) n += entries.size;
    return n;
  }

  private arm(slot: number): void {
    if (this.armedSlot !== null) this.base.clearTimeout(this.armed);
    this.armedSlot = slot;
    this.armed = this.base.setTimeout(() => this.fire(), Math.max(0, slot * this.tickMs - this.base.now()));
  }

  private fire(): void {
    this.armedSlot = null;
    const due = Math.floor(this.base.now() / this.tickMs);
    let failure: { error: unknown } | null = null;
    for (let slot = this.order.peek(); slot !== undefined && slot <= due; slot = this.order.peek()) {
      this.order.pop();
      const entries = this.slots.get(slot);
      this.slots.delete(slot);
      if (!entries) continue;
      this.running = slot;
      for (const entry of entries) {
        try {
          entry.fn();
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    this.running = null;
    while (this.order.peek() !== undefined && !this.slots.has(this.order.peek()!)) this.order.pop();
    const next = this.order.peek();
    if (next !== undefined) this.arm(next);
    // A throwing callback surfaces like one on a plain timer, once the others have run.
    if (failure) throw failure.error;
  }
}
