// Where one device's backlog stands, per priority: how far it has been read from the store, and
// whether more may be there. A session holds only a bounded part of what a device is owed; the
// rest stays in the store and is read a page at a time by (priority, seq), highest priority
// first. Pure: no I/O, no clock.

/** Priorities, highest first: the order a backlog is read and sent in. */
export const PRIORITIES_DESC = [5, 4, 3, 2, 1] as const;

/** One priority's part of a page read: its rows above `afterSeq`, oldest first. */
export interface BacklogArm {
  priority: number;
  afterSeq: number;
}

interface Lane {
  /** Every owed seq of this priority at or below it has been read (or taken live into memory). */
  readTo: number;
  /** Not yet read to the end once: the store may hold anything above `readTo`. */
  unknown: boolean;
  /** The highest seq of this priority known to be in the store unread (arrived while it could not be taken). */
  deferredTo: number;
  /** `deferredTo` when the read in flight was asked for: a complete read covers every deferral up to it. */
  deferredAtRead: number;
  /** The last read of this priority came back full: more is there. */
  full: boolean;
}

/**
 * Per-priority read positions of one device's backlog.
 *
 *   const cursor = new BacklogCursor({ 1: 0, 2: 0, 3: 40, 4: 0, 5: 0 });   // the stored watermarks
 *   cursor.arms();                          // [5, 4, 3, 2, 1] above their watermarks: read one page
 *   cursor.read(5, null, true);             // nothing urgent: exhausted
 *   cursor.read(3, 296, false);             // a full page of default ones: read on from 296
 *   cursor.clearAtOrAbove(5);               // true: an urgent one arriving now may go straight out
 *   cursor.defer(4, 500);                   // a high one that could not be taken: read it before any lower
 */
export class BacklogCursor {
  /** Indexed by priority, 1 to 5 (an array, not a map: every connected phone has one). */
  private readonly lanes: Lane[] = [];
  private gen = 0;

  constructor(watermarks: Readonly<Record<number, number>>) {
    for (const p of PRIORITIES_DESC) this.lanes[p] = { readTo: watermarks[p] ?? 0, unknown: true, deferredTo: 0, deferredAtRead: 0, full: false };
  }

  /** Bumped whenever positions move back (rewind): a read started before is stale and must be dropped. */
  get generation(): number {
    return this.gen;
  }

  /** Nothing of priority `p` is left unread in the store. */
  exhausted(p: number): boolean {
    const lane = this.lane(p);
    return !lane.unknown && lane.deferredTo <= lane.readTo;
  }

  /** No priority at or above `p` has anything unread: a live notification of `p` may be sent from memory now. */
  clearAtOrAbove(p: number): boolean {
    for (const q of PRIORITIES_DESC) {
      if (q < p) break;
      if (!this.exhausted(q)) return false;
    }
    return true;
  }

  /** The highest priority with something unread, or undefined when the backlog is all read. */
  highestUnread(): number | undefined {
    return PRIORITIES_DESC.find((p) => !this.exhausted(p));
  }

  /** The arms of the next read: unread priorities from the highest down to the first known to hold more. */
  arms(): BacklogArm[] {
    const arms: BacklogArm[] = [];
    for (const p of PRIORITIES_DESC) {
      if (this.exhausted(p)) continue;
      const lane = this.lane(p);
      lane.deferredAtRead = lane.deferredTo;
      arms.push({ priority: p, afterSeq: lane.readTo });
      if (lane.full || lane.deferredTo > lane.readTo) break;
    }
    return arms;
  }

  /**
   * A read of priority `p` was used up to `lastSeq` (null: none of its rows were); `complete` when
   * it came back short and every row was used, so the store held nothing more of `p` when read.
   * A deferral made before the read was asked for was committed before it, so a complete read
   * covers it even when its row is gone (dismissed meanwhile); one made while the read was in
   * flight may be newer than the read's snapshot and is read again.
   */
  read(p: number, lastSeq: number | null, complete: boolean): void {
    const lane = this.lane(p);
    if (lastSeq !== null) lane.readTo = Math.max(lane.readTo, lastSeq);
    lane.full = !complete;
    if (!complete) return;
    lane.unknown = false;
    if (lane.deferredTo <= lane.deferredAtRead) lane.deferredTo = 0;
  }

  /** A live notification of `p` was taken into memory: what is read later starts above it. */
  tookLive(p: number, seq: number): void {
    const lane = this.lane(p);
    lane.readTo = Math.max(lane.readTo, seq);
  }

  /** A live notification of `p` could not be taken: it is read from the store, before anything lower. */
  defer(p: number, seq: number): void {
    const lane = this.lane(p);
    lane.deferredTo = Math.max(lane.deferredTo, seq);
  }

  /** Items of `p` from `seq` up were dropped from memory unsent: read them again. */
  rewind(p: number, seq: number): void {
    const lane = this.lane(p);
    if (seq - 1 < lane.readTo) lane.readTo = seq - 1;
    lane.unknown = true;
    this.gen++;
  }

  /** Every owed seq of `p` at or below this is known to the session: its watermark may not pass it. */
  coverage(p: number): number {
    const lane = this.lane(p);
    return this.exhausted(p) ? Number.POSITIVE_INFINITY : lane.readTo;
  }

  private lane(p: number): Lane {
    const lane = this.lanes[p]; // any other number (0, 6, 2.5, NaN) reads undefined
    if (!lane) throw new RangeError(`no such priority: ${p}`);
    return lane;
  }
}
