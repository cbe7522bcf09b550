// One device's delivery progress in memory, reduced to what is stored: a watermark (every seq
// at or below it is settled) and the few seqs settled above it. Pure; no I/O.
//
// It is on the path of every delivery (one addKnown and one settle per notification per
// device), so it keeps no hash set on that path: the known seqs are an ascending array with a
// settled flag each, found by binary search; only seqs settled before they were known (stored
// acks above the watermark, dismissals of unread rows) go to a small set.

/** Consumed entries at least, before a partly consumed ledger copies what is left to fresh arrays. */
const COMPACT_AFTER = 32;

export interface ProgressSnapshot {
  watermark: number;
  ackedAbove: number[];
}

/**
 * Tracks which owed seqs are still unsettled, in seq order.
 *
 *   const ledger = new ProgressLedger(10, [13]);
 *   ledger.addKnown([11, 12, 14]);
 *   ledger.settle([12]);          // 11 still open
 *   ledger.snapshot();            // { watermark: 10, ackedAbove: [12, 13] }
 *   ledger.settle([11]);
 *   ledger.snapshot(12);          // { watermark: 12, ackedAbove: [13] } -- only seqs <= 12 are known yet
 *   ledger.snapshot();            // { watermark: 13, ackedAbove: [] } -- 14 is open
 */
export class ProgressLedger {
  private watermark: number;
  /** The highest seq known (or stored as acked): the watermark may reach it once all below are settled. */
  private highest: number;
  /** The highest seq known or settled: above it nothing is settled (a live arrival needs no lookup). */
  private ceiling: number;
  /** Known seqs above the watermark, ascending from `head` (the consumed prefix is skipped). */
  private order: number[] = [];
  /** `done[i]` says whether `order[i]` is settled. */
  private done: boolean[] = [];
  private head = 0;
  /** How many of `done` from `head` on are true: a snapshot with none to list skips the scan of what is in flight. */
  private doneAhead = 0;
  /** Settled seqs not (yet) among the known ones; made on first use (most ledgers never need it: one per priority per device). */
  private loose: Set<number> | null = null;
  /** Bumped by every add and settle: an owner that saw the same version (and coverage) gets the same snapshot. */
  version = 0;

  constructor(watermark: number, ackedAbove: number[] = []) {
    this.watermark = watermark;
    this.highest = watermark;
    for (const seq of ackedAbove) {
      if (seq > watermark) {
        (this.loose ??= new Set()).add(seq);
        if (seq > this.highest) this.highest = seq;
      }
    }
    this.ceiling = this.highest;
  }

  /** Records seqs owed to the device (any order; duplicates ignored). */
  addKnown(seqs: readonly number[]): void {
    for (const seq of seqs) this.addOne(seq);
  }

  /** Records one seq owed to the device (a duplicate is ignored). */
  addOne(seq: number): void {
    if (seq <= this.watermark) return;
    const end = this.order.length;
    const settled = this.loose !== null && this.loose.size > 0 && this.loose.delete(seq);
    if (end === this.head || seq > this.order[end - 1]) {
      // The usual case: a live arrival above everything known.
      this.order.push(seq);
      this.done.push(settled);
    } else {
      const at = this.lowerBound(seq);
      if (this.order[at] === seq) return;
      this.order.splice(at, 0, seq);
      this.done.splice(at, 0, settled);
    }
    this.version++;
    if (settled) this.doneAhead++;
    if (seq > this.highest) this.highest = seq;
    if (seq > this.ceiling) this.ceiling = seq;
  }

  /** Marks seqs delivered (acked) or otherwise done with (dismissed). */
  settle(seqs: readonly number[]): void {
    for (const seq of seqs) this.settleOne(seq);
  }

  /** Marks one seq delivered (acked) or otherwise done with (dismissed). */
  settleOne(seq: number): void {
    if (seq <= this.watermark) return;
    this.version++;
    const at = this.indexOf(seq);
    if (at >= 0) {
      if (!this.done[at]) this.doneAhead++;
      this.done[at] = true;
    } else {
      (this.loose ??= new Set()).add(seq);
      if (seq > this.ceiling) this.ceiling = seq;
    }
  }

  isSettled(seq: number): boolean {
    if (seq <= this.watermark) return true;
    // A live arrival is above everything seen: no lookup for it.
    if (seq > this.ceiling) return false;
    const at = this.indexOf(seq);
    return at >= 0 ? this.done[at] : this.loose !== null && this.loose.has(seq);
  }

  /** Entries kept in memory: the known seqs, and any consumed prefix not let go yet. */
  get held(): number {
    return this.order.length;
  }

  /** How many known seqs are still unsettled. */
  get unsettled(): number {
    let n = 0;
    for (let i = this.head; i < this.order.length; i++) if (!this.done[i]) n++;
    return n;
  }

  /**
   * Advances the watermark as far as the settled prefix reaches and returns what to store.
   * `coveredUpTo` caps it: seqs above it may be owed without being known yet (a backlog read a
   * page at a time), so the watermark never passes them.
   */
  snapshot(coveredUpTo = Number.POSITIVE_INFINITY): ProgressSnapshot {
    const { order, done } = this;
    let head = this.head;
    while (head < order.length && done[head]) head++;
    const next = Math.min(head < order.length ? order[head] - 1 : this.highest, coveredUpTo);
    if (next > this.watermark) this.watermark = next;
    // Known seqs at or below the watermark are consumed (they are all settled: it stops below the first open one).
    while (this.head < order.length && order[this.head] <= this.watermark) {
      if (done[this.head]) this.doneAhead--;
      this.head++;
    }
    if (this.loose) for (const seq of this.loose) if (seq <= this.watermark) this.loose.delete(seq);
    // The consumed prefix is let go once it outweighs what is left (all of it when nothing is
    // left): a ledger holds only what is in flight, not the capacity of its busiest moment (a
    // thousand idle phones after a load kept 16 MB of consumed seqs with the old bound of 1024).
    if (this.head === order.length) {
      if (this.head > 0) [this.order, this.done, this.head] = [[], [], 0];
    } else if (this.head >= COMPACT_AFTER && this.head * 2 > order.length) {
      this.order = order.slice(this.head);
      this.done = done.slice(this.head);
      this.head = 0;
    }
    const ackedAbove: number[] = [];
    if (this.doneAhead > 0) for (let i = this.head; i < this.order.length; i++) if (this.done[i]) ackedAbove.push(this.order[i]);
    if (this.loose !== null && this.loose.size > 0) {
      ackedAbove.push(...this.loose);
      ackedAbove.sort((a, b) => a - b);
    }
    return { watermark: this.watermark, ackedAbove };
  }

  /** Index of `seq` among the known seqs, or -1. */
  private indexOf(seq: number): number {
    const end = this.order.length;
    if (end === this.head || seq > this.order[end - 1] || seq < this.order[this.head]) return -1;
    const at = this.lowerBound(seq);
    return this.order[at] === seq ? at : -1;
  }

  /** The first index from `head` whose seq is >= `seq`. */
  private lowerBound(seq: number): number {
    let lo = this.head;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
