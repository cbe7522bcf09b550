/**
 * The items waiting in one device's queue: highest priority first, then lowest seq.
 *
 * One lane per priority, each an array ascending by seq. Notifications arrive in seq order,
 * so a push is almost always an append and a pop takes the head of the highest lane: no
 * comparisons and no hash map on the path of every delivery. A resend (lower seq than what
 * waits) is inserted by binary search; removing a waiting item (settled elsewhere) searches
 * the lanes, and is rare.
 */

/** A lane: its items ascending by seq, from `head` on (the consumed prefix is skipped). */
interface Lane<T> {
  priority: number;
  items: T[];
  head: number;
}

/** Consumed slots tolerated at a lane's front before it is compacted. */
const COMPACT_AFTER = 1024;

/**
 * Waiting items ordered by priority (descending), then seq (ascending).
 * The owner pushes a seq at most once while it waits (DeviceQueue's entries guarantee it).
 *
 * @example
 * const pending = new PendingLanes<{ seq: number; priority: number }>();
 * pending.push({ seq: 1, priority: 1 });
 * pending.push({ seq: 2, priority: 5 });
 * pending.remove(2);
 * pending.pop(); // { seq: 1, priority: 1 }
 */
export class PendingLanes<T extends { seq: number; priority: number }> {
  /** Lanes by priority, highest first. */
  private readonly lanes: Lane<T>[] = [];
  private count = 0;

  /** Number of waiting items. */
  get size(): number {
    return this.count;
  }

  /** Whether an item with this seq is waiting. */
  has(seq: number): boolean {
    return this.lanes.some((lane) => indexIn(lane, seq) >= 0);
  }

  /** Adds an item (its seq must not be waiting already). */
  push(item: T): void {
    const lane = this.lane(item.priority);
    const { items } = lane;
    if (items.length === lane.head || item.seq > items[items.length - 1].seq) items.push(item);
    else items.splice(lowerBound(lane, item.seq), 0, item);
    this.count++;
  }

  /** Next item to send without removing it. */
  peek(): T | undefined {
    for (const lane of this.lanes) if (lane.head < lane.items.length) return lane.items[lane.head];
    return undefined;
  }

  /** Removes and returns the next item to send. */
  pop(): T | undefined {
    for (const lane of this.lanes) {
      if (lane.head === lane.items.length) continue;
      const item = lane.items[lane.head++];
      this.count--;
      if (lane.head === lane.items.length) {
        lane.items.length = 0;
        lane.head = 0;
      } else if (lane.head >= COMPACT_AFTER && lane.head * 2 > lane.items.length) {
        lane.items = lane.items.slice(lane.head);
        lane.head = 0;
      }
      return item;
    }
    return undefined;
  }

  /** Removes the item with this seq; returns whether it was waiting. */
  remove(seq: number): boolean {
    for (const lane of this.lanes) {
      const at = indexIn(lane, seq);
      if (at < 0) continue;
      lane.items.splice(at, 1);
      this.count--;
      return true;
    }
    return false;
  }

  /** Removes every waiting item `drop` picks; returns them. O(size). */
  removeWhere(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const lane of this.lanes) {
      const kept: T[] = [];
      for (let i = lane.head; i < lane.items.length; i++) (drop(lane.items[i]) ? removed : kept).push(lane.items[i]);
      lane.items = kept;
      lane.head = 0;
    }
    this.count -= removed.length;
    return removed;
  }

  /** Count of waiting items per priority, for metrics. */
  depthByPriority(): Record<number, number> {
    const depth: Record<number, number> = {};
    for (const lane of this.lanes) if (lane.items.length > lane.head) depth[lane.priority] = lane.items.length - lane.head;
    return depth;
  }

  /** The lane of `priority`, made (in order) the first time it is used. */
  private lane(priority: number): Lane<T> {
    for (const lane of this.lanes) if (lane.priority === priority) return lane;
    const lane: Lane<T> = { priority, items: [], head: 0 };
    const at = this.lanes.findIndex((l) => l.priority < priority);
    this.lanes.splice(at < 0 ? this.lanes.length : at, 0, lane);
    return lane;
  }
}

/** The first index from the lane's head whose seq is >= `seq`. */
function lowerBound<T extends { seq: number }>(lane: Lane<T>, seq: number): number {
  let lo = lane.head;
  let hi = lane.items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lane.items[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where `seq` waits in the lane, or -1. */
function indexIn<T extends { seq: number }>(lane: Lane<T>, seq: number): number {
  const at = lowerBound(lane, seq);
  return at < lane.items.length && lane.items[at].seq === seq ? at : -1;
}
