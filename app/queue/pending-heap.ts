/**
 * Priority heap of queued notifications keyed by seq, with cheap removal.
 *
 * A device queue must drop items settled elsewhere without an O(n) search of
 * the heap, so removal is lazy: the item is forgotten in an index and its heap
 * slot is skipped when it surfaces, and the heap is rebuilt once stale slots
 * outnumber live ones.
 */
import { BinaryHeap, byPriorityThenSeq } from './binary-heap';

/** Stale slots tolerated before a rebuild is even considered. */
const MIN_STALE_BEFORE_COMPACT = 64;

/**
 * Items ordered by `byPriorityThenSeq` (highest priority first, then lowest
 * seq), at most one per seq, removable by seq in O(1).
 *
 * @example
 * const pending = new PendingHeap<{ seq: number; priority: number }>();
 * pending.push({ seq: 1, priority: 1 });
 * pending.push({ seq: 2, priority: 5 });
 * pending.remove(2);
 * pending.pop(); // { seq: 1, priority: 1 }
 */
export class PendingHeap<T extends { seq: number; priority: number }> {
  private readonly heap = new BinaryHeap<T>(byPriorityThenSeq);
  private readonly live = new Map<number, T>();
  private stale = 0;

  /** Number of live (not removed) items. */
  get size(): number {
    return this.live.size;
  }

  /** Whether an item with this seq is waiting. */
  has(seq: number): boolean {
    return this.live.has(seq);
  }

  /** Adds an item; returns false (and changes nothing) if its seq is already waiting. */
  push(item: T): boolean {
    if (this.live.has(item.seq)) return false;
    this.live.set(item.seq, item);
    this.heap.push(item);
    return true;
  }

  /** Next item to send without removing it. */
  peek(): T | undefined {
    this.skipStale();
    return this.heap.peek();
  }

  /** Removes and returns the next item to send. */
  pop(): T | undefined {
    this.skipStale();
    const item = this.heap.pop();
    if (item !== undefined) this.live.delete(item.seq);
    return item;
  }

  /** Removes the item with this seq; returns whether it was waiting. */
  remove(seq: number): boolean {
    if (!this.live.delete(seq)) return false;
    this.stale++;
    if (this.stale >= MIN_STALE_BEFORE_COMPACT && this.stale > this.live.size) this.compact();
    return true;
  }

  /** Removes every waiting item `drop` picks; returns them. O(size). */
  removeWhere(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const item of this.live.values()) if (drop(item)) removed.push(item);
    for (const item of removed) this.remove(item.seq);
    return removed;
  }

  /** Count of waiting items per priority, for metrics. */
  depthByPriority(): Record<number, number> {
    const depth: Record<number, number> = {};
    for (const item of this.live.values()) depth[item.priority] = (depth[item.priority] ?? 0) + 1;
    return depth;
  }

  private isLive(item: T): boolean {
    return this.live.get(item.seq) === item;
  }

  private skipStale(): void {
    for (let top = this.heap.peek(); top !== undefined && !this.isLive(top); top = this.heap.peek()) {
      this.heap.pop();
      this.stale--;
    }
  }

  private compact(): void {
    const keep = this.heap.toArray().filter((item) => this.isLive(item));
    this.heap.clear();
    for (const item of keep) this.heap.push(item);
    this.stale = 0;
  }
}
