/**
 * Per-connection delivery scheduler for one device's socket. Pure: time comes
 * from the injected `Timers`, output goes through the injected `send` callback.
 */
import { Batcher } from './batcher';
import { InFlightBatches } from './in-flight-batches';
import { PendingLanes } from './pending-lanes';
import type { Timers } from './timers';

/** Tunables of one device queue; all required so the owner states its policy explicitly. */
export interface DeviceQueueOptions {
  /** The longest an item waits for company while batches are unacknowledged (never when none are). */
  batchWindowMs: number;
  maxBatch: number;
  maxInFlight: number;
  redeliverAfterMs: number;
  urgentPriority: number;
}

/** What the queue hands to the socket: one batch the device must acknowledge by `batchId`. */
export interface OutgoingBatch<T> {
  batchId: number;
  items: T[];
  /** How many items in this batch were sent before (resends after expiry or partial ack). */
  redelivered: number;
}

/**
 * Which seqs are settled for good, so enqueuing one again is ignored. By default the queue
 * remembers them itself; an owner that keeps its own record (delivery's progress ledgers)
 * passes that instead, so every delivery is not recorded twice.
 */
export interface SettledMemory {
  has(seq: number, priority: number): boolean;
  add(seq: number, priority: number): void;
}

function seqOf(item: { seq: number }): number {
  return item.seq;
}

/** Bookkeeping of an unsettled item; `batchId === null` means it waits in `pending`. */
interface Entry<T> { item: T; sends: number; batchId: number | null }

/**
 * Delivery scheduler for one socket. Items leave highest priority first, FIFO
 * by seq within a priority, in batches decided by the `Batcher` rules (natural
 * batching: with nothing in flight an item leaves at once; while batches wait
 * for an ack, new items gather and leave with the next ack, at `maxBatch`, when
 * urgent, or after `batchWindowMs` at most); at most `maxInFlight` batches wait
 * for an ack, and a batch unacked after `redeliverAfterMs` is resent. Seqs are
 * idempotent: once pending, in flight or settled, enqueuing the same seq again
 * is ignored. `send` must not throw (if it does, the batch still counts as sent
 * and is redelivered on expiry).
 *
 * @example
 * const options = { batchWindowMs: 25, maxBatch: 64, maxInFlight: 4, redeliverAfterMs: 10_000, urgentPriority: 5 };
 * const queue = new DeviceQueue(options, systemTimers, (batch) => socket.emit('notifications', batch));
 * queue.enqueueMany(backlog, { flush: true });   // resume after reconnect: at once, across batches
 * queue.enqueue({ seq: 42, priority: 3, title: 'Build done' });   // leaves at once if nothing is in flight
 * socket.on('ack', ({ batchId, seqs }) => markDelivered(queue.acknowledge(batchId, seqs)));
 * socket.on('disconnect', () => queue.close());
 */
export class DeviceQueue<T extends { seq: number; priority: number }> {
  private readonly pending = new PendingLanes<T>();
  private readonly entries = new Map<number, Entry<T>>();
  /** Settled seqs still remembered, with their priority when known; null when the owner remembers (one per device: no empty map). */
  private readonly settled: Map<number, number | undefined> | null;
  private readonly memory: SettledMemory;
  private readonly inFlight: InFlightBatches;
  private readonly batcher: Batcher;
  private readonly maxInFlight: number;
  private nextBatchId = 1;
  private windowArmed = false;
  private windowTimer: unknown;
  private closed = false;
  private pumping = false;
  private repump = false;
  /** Open `hold` calls: while any, nothing is sent. */
  private holds = 0;

  constructor(
    options: DeviceQueueOptions,
    private readonly timers: Timers,
    private readonly send: (batch: OutgoingBatch<T>) => void,
    memory?: SettledMemory,
  ) {
    const settled = memory === undefined ? new Map<number, number | undefined>() : null;
    this.settled = settled;
    this.memory = memory ?? { has: (seq) => settled!.has(seq), add: (seq, priority) => void settled!.set(seq, priority) };
    const { batchWindowMs: windowMs, maxBatch, maxInFlight, redeliverAfterMs, urgentPriority } = options;
    if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) throw new RangeError(`maxInFlight must be >= 1, got ${maxInFlight}`);
    if (!(redeliverAfterMs > 0)) throw new RangeError(`redeliverAfterMs must be > 0, got ${redeliverAfterMs}`);
    this.batcher = new Batcher({ windowMs, maxBatch, urgentPriority });
    this.maxInFlight = maxInFlight;
    this.inFlight = new InFlightBatches(timers, redeliverAfterMs, (_batchId, seqs) => this.onExpired(seqs));
  }

  /** Items waiting to be sent (not in flight, not settled). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Batches sent and not yet acknowledged, expired, or emptied by `settle`. */
  get inFlightBatches(): number {
    return this.inFlight.size;
  }

  /** Unsettled items inside in-flight batches. */
  get inFlightCount(): number {
    return this.inFlight.itemCount;
  }

  /** Waiting (not in-flight) items per priority, for metrics. */
  depthByPriority(): Record<number, number> {
    return this.pending.depthByPriority();
  }

  /** Queues one item; returns false if its seq is already known or the queue is closed. */
  enqueue(item: T): boolean {
    if (!this.accept(item)) return false;
    this.pump();
    return true;
  }

  /** Queues several items; with `flush` they leave without waiting for the window. Returns how many were new. */
  enqueueMany(items: Iterable<T>, options: { flush?: boolean } = {}): number {
    let accepted = 0;
    for (const item of items) if (this.accept(item)) accepted++;
    if (options.flush) this.flushNow();
    else if (accepted > 0) this.pump();
    return accepted;
  }

  /** Sends everything waiting now (up to `maxInFlight` batches), without gathering. */
  flushNow(): void {
    if (this.pending.size > 0) this.batcher.forceDue();
    this.pump();
  }

  /**
   * Handles the device's ack: acked seqs that were sent are settled for good, the rest of that batch
   * is queued again and its slot freed, and what gathered meanwhile leaves now. Unknown or expired
   * batchIds still settle their acked seqs (late ack). Returns the seqs newly settled.
   */
  acknowledge(batchId: number, ackedSeqs: Iterable<number>): number[] {
    return this.settleAcked(batchId, ackedSeqs, (seq) => seq);
  }

  /** As `acknowledge`, given held items (as `itemsByKey` finds them): returns the items newly settled, in the order given. */
  acknowledgeItems(batchId: number, acked: readonly T[]): T[] {
    return this.settleAcked(batchId, acked, seqOf);
  }

  private settleAcked<K>(batchId: number, acked: Iterable<K>, seqOfKey: (key: K) => number): K[] {
    // The batch closes first: its acked seqs then need no removal from it, one by one.
    const open = this.inFlight.take(batchId);
    const newlySettled: K[] = [];
    for (const key of acked) {
      const seq = seqOfKey(key);
      const entry = this.entries.get(seq);
      if (entry === undefined || entry.sends === 0) continue; // never sent: the device cannot have it
      this.settleEntry(seq, entry);
      newlySettled.push(key);
    }
    if (open !== undefined) this.requeue(open.filter((seq) => this.entries.get(seq)?.batchId === batchId));
    // The device is reading: what gathered behind the unacknowledged batches goes out now.
    if (this.pending.size > 0) this.batcher.forceDue();
    this.pump();
    return newlySettled;
  }

  /**
   * The held items whose `keyOf` is among `keys`, in the order of `keys` (unknown ones skipped):
   * looked up in batch `batchId` first, where an ack's keys are, in order; any other held item
   * through one index built for this call, so a hostile list costs one pass over what is held.
   */
  itemsByKey(batchId: number, keys: readonly unknown[], keyOf: (item: T) => unknown): T[] {
    const seqs = this.inFlight.seqsOf(batchId) ?? [];
    const found: T[] = [];
    let next = 0;
    let index: Map<unknown, T> | undefined;
    for (const key of keys) {
      const expected = next < seqs.length ? this.entries.get(seqs[next])?.item : undefined;
      if (expected !== undefined && keyOf(expected) === key) {
        found.push(expected);
        next++;
        continue;
      }
      if (index === undefined) {
        index = new Map();
        for (const entry of this.entries.values()) index.set(keyOf(entry.item), entry.item);
      }
      const item = index.get(key);
      if (item !== undefined) found.push(item);
    }
    return found;
  }

  /** The held (waiting or in-flight) item with this seq, if any. */
  held(seq: number): T | undefined {
    return this.entries.get(seq)?.item;
  }

  /** The first held item `match` accepts (a pass over what is held: for rare lookups such as a dismissal). */
  findHeld(match: (item: T) => boolean): T | undefined {
    for (const entry of this.entries.values()) if (match(entry.item)) return entry.item;
    return undefined;
  }

  /** Settles seqs decided elsewhere (other socket, dismissed) so they are never (re)sent. Returns those it held. */
  settle(seqs: Iterable<number>): number[] {
    const removed: number[] = [];
    for (const seq of seqs) {
      const entry = this.entries.get(seq);
      if (entry !== undefined) {
        this.settleEntry(seq, entry);
        removed.push(seq);
      } else if (this.settled !== null && !this.settled.has(seq)) this.settled.set(seq, undefined); // unknown seqs too, so a later enqueue of them is ignored
    }
    this.pump();
    return removed;
  }

  /**
   * Drops the memory of settled seqs at or below `watermark`: the owner promises never to
   * enqueue those again (it checks its own durable progress first), so the set stays small.
   */
  forgetSettledUpTo(watermark: number): void {
    this.forgetSettled((seq) => seq <= watermark);
  }

  /** As forgetSettledUpTo, with a watermark per priority: drops each settled seq `covered` says its owner remembers. */
  forgetSettled(covered: (seq: number, priority: number | undefined) => boolean): void {
    if (this.settled === null) return;
    for (const [seq, priority] of this.settled) if (covered(seq, priority)) this.settled.delete(seq);
  }

  /**
   * Drops waiting (not in-flight) items below `priority` from memory, neither sent nor settled:
   * the owner reads them again later (a paged backlog making room for a higher priority).
   * Enqueuing them again is accepted. Returns them.
   */
  evictPendingBelow(priority: number): T[] {
    const evicted = this.pending.removeWhere((item) => item.priority < priority);
    for (const item of evicted) this.entries.delete(item.seq);
    if (this.pending.size === 0) this.onDrained();
    return evicted;
  }

  /** Settled seqs still remembered (for tests and metrics). */
  get rememberedSettled(): number {
    return this.settled?.size ?? 0;
  }

  /** Stops the queue: cancels every timer; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    this.onDrained();
    this.inFlight.cancelTimers();
  }

  private accept(item: T): boolean {
    if (!Number.isFinite(item.seq) || !Number.isFinite(item.priority)) {
      throw new TypeError(`seq and priority must be finite numbers (seq ${item.seq}, priority ${item.priority})`);
    }
    if (this.closed || this.entries.has(item.seq) || this.memory.has(item.seq, item.priority)) return false;
    this.entries.set(item.seq, { item, sends: 0, batchId: null });
    this.addPending(item);
    return true;
  }

  private addPending(item: T): void {
    const waiting = this.pending.size;
    // Only the first item into an empty queue starts the window: no clock read for the others.
    this.batcher.onQueued(waiting === 0 ? this.timers.now() : 0, waiting);
    this.pending.push(item);
  }

  private settleEntry(seq: number, entry: Entry<T>): void {
    this.entries.delete(seq);
    this.memory.add(seq, entry.item.priority);
    if (entry.batchId === null) this.pending.remove(seq);
    else this.inFlight.removeSeq(entry.batchId, seq);
  }

  /** Puts unacknowledged seqs back; resends have already waited, so they leave as soon as a slot allows. */
  private requeue(seqs: readonly number[]): void {
    for (const seq of seqs) {
      const entry = this.entries.get(seq) as Entry<T>;
      entry.batchId = null;
      this.addPending(entry.item);
    }
    if (seqs.length > 0) this.batcher.forceDue();
  }

  private onExpired(seqs: number[]): void {
    if (this.closed) return;
    this.requeue(seqs);
    this.pump();
  }

  /** Holds sending until the matching `release` (items enqueued together then leave together). */
  hold(): void {
    this.holds++;
  }

  /** Ends a `hold`: what waits is sent as the batching rules say. */
  release(): void {
    if (this.holds > 0 && --this.holds === 0) this.pump();
  }

  private pump(): void {
    if (this.holds > 0) return; // `release` pumps
    if (this.pumping) {
      this.repump = true; // re-entered from `send`: the outer loop picks the change up
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        this.drain();
      } while (this.repump && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  private drain(): void {
    while (!this.closed && this.inFlight.size < this.maxInFlight) {
      const decision = this.batcher.decide(this.timers.now(), this.pending.size, this.pending.peek()?.priority, this.inFlight.size);
      if (decision.kind === 'send') {
        this.sendBatch();
        continue;
      }
      if (decision.kind === 'wait' && !this.windowArmed) {
        this.windowArmed = true;
        this.windowTimer = this.timers.setTimeout(() => {
          this.windowArmed = false;
          this.pump();
        }, decision.delayMs);
      }
      break;
    }
    if (this.pending.size === 0) this.onDrained();
  }

  private sendBatch(): void {
    const batchId = this.nextBatchId++;
    const items: T[] = [];
    let redelivered = 0;
    for (let item = this.pending.pop(); item !== undefined; item = this.pending.pop()) {
      const entry = this.entries.get(item.seq) as Entry<T>;
      if (entry.sends > 0) redelivered++;
      entry.sends++;
      entry.batchId = batchId;
      items.push(item);
      if (items.length >= this.batcher.options.maxBatch) break;
    }
    this.inFlight.open(batchId, items.map((item) => item.seq));
    if (this.pending.size === 0) this.onDrained();
    this.send({ batchId, items, redelivered });
  }

  /** Queue empty (or closing): the gathering ends and its wake-up is cancelled. */
  private onDrained(): void {
    this.batcher.onDrained();
    if (this.windowArmed) this.timers.clearTimeout(this.windowTimer);
    this.windowArmed = false;
  }
}
