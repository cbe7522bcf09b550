/**
 * Array-backed binary min-heap used by the delivery queues.
 *
 * Hand-written rather than pulled from a package so that ordering is fully
 * under our control and the queue core stays dependency-free.
 */

/** Orders queued notifications: the queue must always hand out the most urgent, oldest item first. */
export function byPriorityThenSeq(
  a: { priority: number; seq: number },
  b: { priority: number; seq: number },
): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.seq - b.seq;
}

/**
 * Min-heap ordered by a caller-supplied comparator (the smallest item per
 * `compare` comes out first), so schedulers can pop "the next thing to send"
 * in O(log n).
 *
 * @example
 * const heap = new BinaryHeap<{ priority: number; seq: number }>(byPriorityThenSeq);
 * heap.push({ priority: 1, seq: 1 });
 * heap.push({ priority: 5, seq: 2 });
 * heap.pop(); // { priority: 5, seq: 2 } — higher priority first
 * heap.pop(); // { priority: 1, seq: 1 }
 */
export class BinaryHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Number of items currently held. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item in O(log n). */
  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  /** Removes and returns the smallest item, or undefined when empty. */
  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Returns the smallest item without removing it, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Unordered copy of the contents; mutating it does not affect the heap. */
  toArray(): T[] {
    return this.items.slice();
  }

  /** Removes every item. */
  clear(): void {
    this.items.length = 0;
  }

  private siftUp(index: number): void {
    const items = this.items;
    const item = items[index];
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(item, items[parent]) >= 0) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  private siftDown(index: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[index];
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.compare(items[right], items[left]) < 0 ? right : left;
      if (this.compare(items[child], item) >= 0) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = item;
  }
}
