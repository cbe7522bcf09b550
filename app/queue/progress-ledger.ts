// One device's delivery progress in memory, reduced to what is stored: a watermark (every seq
// at or below it is settled) and the few seqs settled above it. Pure; no I/O.

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
  private highest: number;
  /** The highest seq ever settled here: above it and above `highest`, nothing is settled. */
  private highestSettled = 0;
  /** Unsettled-or-settled seqs above the watermark, ascending; `head` skips the consumed prefix. */
  private order: number[] = [];
  private head = 0;
  private readonly known = new Set<number>();
  private readonly settled = new Set<number>();

  constructor(watermark: number, ackedAbove: number[] = []) {
    this.watermark = watermark;
    this.highest = watermark;
    for (const seq of ackedAbove) {
      if (seq > watermark) {
        this.settled.add(seq);
        this.highest = Math.max(this.highest, seq);
        this.highestSettled = Math.max(this.highestSettled, seq);
      }
    }
  }

  /** Records seqs owed to the device (any order; duplicates ignored). */
  addKnown(seqs: readonly number[]): void {
    let sorted = true;
    for (const seq of seqs) {
      // Every known seq is at or below `highest`: a new arrival above it needs no lookup.
      if (seq <= this.watermark || (seq <= this.highest && this.known.has(seq))) continue;
      this.known.add(seq);
      const last = this.order.length > this.head ? this.order[this.order.length - 1] : -Infinity;
      if (seq < last) sorted = false;
      this.order.push(seq);
      this.highest = Math.max(this.highest, seq);
    }
    if (!sorted) {
      this.order = this.order.slice(this.head).sort((a, b) => a - b);
      this.head = 0;
    }
  }

  /** Marks seqs delivered (acked) or otherwise done with (dismissed). */
  settle(seqs: readonly number[]): void {
    for (const seq of seqs) {
      if (seq <= this.watermark) continue;
      this.settled.add(seq);
      if (seq > this.highestSettled) this.highestSettled = seq;
    }
  }

  isSettled(seq: number): boolean {
    // A live arrival is above everything seen: no lookup in the settled set for it.
    if (seq > this.highest && seq > this.highestSettled) return false;
    return seq <= this.watermark || this.settled.has(seq);
  }

  /** How many known seqs are still unsettled. */
  get unsettled(): number {
    let n = 0;
    for (let i = this.head; i < this.order.length; i++) if (!this.settled.has(this.order[i])) n++;
    return n;
  }

  /**
   * Advances the watermark as far as the settled prefix reaches and returns what to store.
   * `coveredUpTo` caps it: seqs above it may be owed without being known yet (a backlog read a
   * page at a time), so the watermark never passes them.
   */
  snapshot(coveredUpTo = Number.POSITIVE_INFINITY): ProgressSnapshot {
    while (this.head < this.order.length && this.settled.has(this.order[this.head])) this.head++;
    const lowestOpen = this.head < this.order.length ? this.order[this.head] : undefined;
    const next = Math.min(lowestOpen === undefined ? this.highest : lowestOpen - 1, coveredUpTo);
    if (next > this.watermark) this.watermark = next;
    for (const seq of this.settled) {
      if (seq <= this.watermark) {
        this.settled.delete(seq);
        this.known.delete(seq);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    return { watermark: this.watermark, ackedAbove: [...this.settled].sort((a, b) => a - b) };
  }
}
