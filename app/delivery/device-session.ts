import type { AttachmentLinker, StoredNotification } from '../domain/notification';
import { toWire } from '../domain/notification';
import { DeviceQueue, type DeviceQueueOptions, type OutgoingBatch } from '../queue/device-queue';
import { ProgressLedger, type ProgressSnapshot } from '../queue/progress-ledger';
import type { Timers } from '../queue/timers';
import { BacklogCursor, PRIORITIES_DESC, type BacklogArm } from './backlog-cursor';
import type { BacklogRow, DeliveryStore, DeviceConnection, EncodedNotification, ProgressWrite, StoredProgress } from './ports';
import type { DismissedEvent } from './relay-bus';

// One live device: its queue, its progress (a ledger per priority) and where its backlog
// stands. It holds at most `maxHeld` notifications in memory; the rest of what it is owed stays
// in the store and is read a page at a time, highest priority first, as acks make room. A live
// notification goes straight to the queue when nothing of its priority or above is left unread
// (and there is room); otherwise it is read from the store in its turn, and what waits below it
// is dropped from memory to be read again later, so it still overtakes them.

/** A notification as queued: built once per notification and shared by every device's queue. */
export interface Item extends EncodedNotification {
  seq: number;
  priority: number;
  topic: string | null;
  /** ms since epoch when it was accepted, for the latency histogram. */
  acceptedAtMs: number;
  /** `Cache: no`: the only devices it is owed to (the others settle it unseen); absent = every device. */
  owedTo?: ReadonlySet<string>;
}

/** Encode once: the wire JSON is built here, once per notification, whatever the number of devices. */
export function toItem(n: StoredNotification, link?: AttachmentLinker): Item {
  const item: Item = { seq: n.seq, priority: n.priority, id: n.id, topic: n.topic, json: JSON.stringify(toWire(n, link)), acceptedAtMs: Date.parse(n.createdAt) };
  return n.owedTo ? { ...item, owedTo: new Set(n.owedTo) } : item;
}

/** How every session behaves. */
export interface SessionPolicy {
  queue: DeviceQueueOptions;
  /** Notifications one session holds in memory at most (waiting plus in flight). */
  maxHeld: number;
  /** Rows one backlog read asks for at most. */
  pageRows: number;
  /** Dismissals read (and sent in one `dismissed`) per page when a device catches up. */
  dismissPage: number;
  /** Signs stored attachments' links into the wire JSON. */
  link?: AttachmentLinker;
}

/** What a session needs from delivery. */
export interface SessionContext {
  store: DeliveryStore;
  timers: Timers;
  policy: SessionPolicy;
  /** A batch is leaving (metrics, feed). */
  sending(session: DeviceSession, batch: OutgoingBatch<Item>): void;
  /** The device answered a batch (delivery calls `ack` and reports what it settled). */
  acked(session: DeviceSession, batchId: number, reply: unknown): void;
  /** Its progress moved: write it with the next coalesced save. */
  progressMoved(session: DeviceSession): void;
  /** It holds this many notifications now (the high-water gauge). */
  holding(count: number): void;
  /** A read failed: the session cannot go on (the socket is closed; the device reconnects). */
  failed(session: DeviceSession, error: unknown, context: string): void;
  /** Something went wrong that the session gets past. */
  report(error: unknown, context: string): void;
}

interface Loaded {
  /** Indexed by priority. */
  ledgers: ProgressLedger[];
  cursor: BacklogCursor;
  /** The device's topic filter; null = every topic. Untopiced notifications always pass. */
  topics: Set<string> | null;
}

/** An ack may name at most this many ids (a batch holds far fewer); the rest is ignored. */
const MAX_ACK_IDS = 1024;

function idOf(item: Item): string {
  return item.id;
}

/** A priority's progress as last handed to the store, and the ledger version and coverage it was taken at. */
interface SavedPriority extends ProgressSnapshot {
  version: number;
  coverage: number;
}

function sameSeqs(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A connected device.
 *
 *   const session = new DeviceSession(connection, context);
 *   session.start(await store.progress(deviceId));   // reads its backlog a page at a time
 *   session.offer(item, null);                       // a live notification
 *   session.ack(batchId, { ack: ids });              // from the socket
 */
export class DeviceSession {
  readonly queue: DeviceQueue<Item>;
  closed = false;
  private loaded: Loaded | null = null;
  private reading = false;
  /** Ids dismissed (or replaced) while a page read is out: its rows of them are not taken (made when first needed). */
  private dismissedWhileReading: Set<string> | null = null;
  private dismissCursor = 0;
  private savedCursor = 0;
  private liveDismissals = 0;
  private dismissalsCaughtUp = false;
  /** What was last handed to the store, indexed by priority (arrays, not maps: every connected phone has these). */
  private readonly saved: SavedPriority[] = [];
  /** The saver's way to take this session's write (one closure per session, not one per ack). */
  readonly takeProgress = (): ProgressWrite | null => this.progressWrite();

  constructor(
    readonly connection: DeviceConnection,
    private readonly context: SessionContext,
  ) {
    // The ledgers are the queue's memory of what is settled: one record per delivery, not two.
    const memory = { has: (seq: number, priority: number) => this.ledger(priority).isSettled(seq), add: () => undefined };
    this.queue = new DeviceQueue<Item>(context.policy.queue, context.timers, (batch) => this.send(batch), memory);
  }

  get deviceId(): string {
    return this.connection.deviceId;
  }

  /** Notifications held in memory: waiting and in flight. */
  get held(): number {
    return this.queue.pendingCount + this.queue.inFlightCount;
  }

  /** Its stored progress arrived: the backlog is read from here on. */
  start(progress: StoredProgress): void {
    const ledgers: ProgressLedger[] = [];
    const watermarks: Record<number, number> = {};
    for (const p of PRIORITIES_DESC) {
      const { watermark, ackedAbove } = progress.priorities[p];
      ledgers[p] = new ProgressLedger(watermark, ackedAbove);
      watermarks[p] = watermark;
      this.saved[p] = { watermark, ackedAbove, version: -1, coverage: -1 };
    }
    this.loaded = { ledgers, cursor: new BacklogCursor(watermarks), topics: progress.topics ? new Set(progress.topics) : null };
    this.dismissCursor = this.savedCursor = progress.dismissCursor;
    this.fill();
  }

  /** A live notification (from the fan-out, in seq order). Before the progress is loaded, the first read covers it. */
  offer(item: Item, replaces: string | null): void {
    if (this.closed || !this.loaded) return;
    const { cursor } = this.loaded;
    const p = item.priority;
    const ledger = this.ledger(p);
    if (ledger.isSettled(item.seq)) return;
    // An update supersedes what it replaces: an unsent or unacked old version is not owed any more.
    if (replaces) this.forget(replaces);
    if (!cursor.exhausted(p)) {
      cursor.defer(p, item.seq);
      return this.fill();
    }
    if (!this.wants(item)) {
      ledger.addOne(item.seq);
      ledger.settleOne(item.seq);
      cursor.tookLive(p, item.seq);
      return this.context.progressMoved(this);
    }
    if (cursor.clearAtOrAbove(p) && this.held < this.context.policy.maxHeld) {
      cursor.tookLive(p, item.seq);
      this.queue.enqueue(item);
      ledger.addOne(item.seq);
      return this.context.holding(this.held);
    }
    // Not now: it is read from the store in its turn, and what waits below it makes way.
    cursor.defer(p, item.seq);
    this.evictBelow(p);
    this.fill();
  }

  /** Live notifications offered together (a fan-out that fell behind): they leave in one frame where they can. */
  offerMany(offers: readonly { item: Item; replaces: string | null }[]): void {
    if (offers.length === 1) return this.offer(offers[0].item, offers[0].replaces);
    this.queue.hold();
    try {
      for (const { item, replaces } of offers) this.offer(item, replaces);
    } finally {
      this.queue.release();
    }
  }

  /** A notification was dismissed: settled here, and the device told unless it dismissed it. */
  dismiss({ id, dismissalSeq, byDevice }: DismissedEvent): void {
    if (this.closed) return;
    if (this.forget(id)) {
      this.context.progressMoved(this);
      this.fill(); // room freed without an ack
    }
    if (this.deviceId !== byDevice) this.connection.sendDismissed([id]);
    if (!this.dismissalsCaughtUp) this.liveDismissals = Math.max(this.liveDismissals, dismissalSeq);
    else if (dismissalSeq > this.dismissCursor) {
      this.dismissCursor = dismissalSeq;
      this.context.progressMoved(this);
    }
  }

  /** Tells the device the dismissals it missed while away, a page at a time; then its cursor follows live ones. */
  async catchUpDismissals(): Promise<void> {
    const { store, policy } = this.context;
    let cursor = this.dismissCursor;
    for (;;) {
      const page = await store.dismissalsAfter(cursor, policy.dismissPage);
      if (this.closed) return;
      if (page.length > 0) {
        this.connection.sendDismissed(page.map((d) => d.notificationId));
        cursor = page[page.length - 1].seq;
      }
      if (page.length < policy.dismissPage) break;
    }
    this.dismissCursor = Math.max(cursor, this.liveDismissals, this.dismissCursor);
    this.dismissalsCaughtUp = true;
    if (this.dismissCursor > this.savedCursor) this.context.progressMoved(this);
  }

  /** The device acked a batch; returns the items this settled. */
  ack(batchId: number, reply: unknown): Item[] {
    if (this.closed || !this.loaded) return [];
    const ids = (reply as { ack?: unknown } | null)?.ack;
    const acked = Array.isArray(ids) ? this.queue.itemsByKey(batchId, ids.length > MAX_ACK_IDS ? ids.slice(0, MAX_ACK_IDS) : ids, idOf) : [];
    const done = this.queue.acknowledgeItems(batchId, acked);
    for (const item of done) this.ledger(item.priority).settleOne(item.seq);
    if (done.length > 0) this.context.progressMoved(this);
    this.fill();
    return done;
  }

  /** The device chose new topics: they apply to what is taken from now on. */
  setTopics(topics: string[] | null): void {
    if (this.loaded) this.loaded.topics = topics ? new Set(topics) : null;
  }

  /** What moved since the last write (null: nothing). */
  progressWrite(): ProgressWrite | null {
    if (!this.loaded) return null;
    const write: ProgressWrite = { deviceId: this.deviceId, priorities: [] };
    for (const p of PRIORITIES_DESC) {
      const ledger = this.ledger(p);
      const coverage = this.loaded.cursor.coverage(p);
      const saved = this.saved[p];
      // Nothing added or settled and nothing more read at this priority: the same snapshot as last time.
      if (saved.version === ledger.version && saved.coverage === coverage) continue;
      const snapshot = ledger.snapshot(coverage);
      const changed = snapshot.watermark !== saved.watermark || !sameSeqs(snapshot.ackedAbove, saved.ackedAbove);
      const { watermark, ackedAbove } = snapshot;
      if (changed) write.priorities.push({ priority: p, watermark, ackedAbove });
      // The session's own record, updated in place: no object per priority per save (a literal
      // spreading the snapshot, as this was, is V8's slow path: 1.2 µs against 20 ns).
      saved.watermark = watermark;
      saved.ackedAbove = ackedAbove;
      saved.version = ledger.version;
      saved.coverage = coverage;
    }
    if (this.dismissCursor > this.savedCursor) write.dismissCursor = this.savedCursor = this.dismissCursor;
    return write.priorities.length > 0 || write.dismissCursor !== undefined ? write : null;
  }

  /** Its progress as it stands in memory (acked but not yet written included), for the device list. */
  currentProgress(): StoredProgress | undefined {
    if (!this.loaded) return undefined;
    const priorities: StoredProgress['priorities'] = {};
    for (const p of PRIORITIES_DESC) priorities[p] = this.ledger(p).snapshot(this.loaded.cursor.coverage(p));
    return { priorities, dismissCursor: this.dismissCursor, topics: this.loaded.topics ? [...this.loaded.topics] : null };
  }

  close(): void {
    this.closed = true;
    this.queue.close();
  }

  /** Reads the next page of the backlog when there is room and something unread; one read at a time. */
  private fill(): void {
    if (this.closed || !this.loaded || this.reading) return;
    const { cursor } = this.loaded;
    const { maxHeld, pageRows, queue } = this.context.policy;
    const room = maxHeld - this.held;
    if (cursor.highestUnread() === undefined || room < Math.min(queue.maxBatch, pageRows, maxHeld)) return;
    const arms = cursor.arms();
    const limit = Math.min(pageRows, room);
    const generation = cursor.generation;
    this.reading = true;
    this.context.store.page(arms, limit).then(
      (rows) => {
        this.reading = false;
        if (this.closed) return;
        if (generation === cursor.generation) this.take(arms, rows, limit);
        this.dismissedWhileReading = null;
        this.fill();
      },
      (error) => {
        this.reading = false;
        this.dismissedWhileReading = null;
        if (!this.closed) this.context.failed(this, error, 'backlog page');
      },
    );
  }

  /** Takes a page's rows, priority by priority, as long as nothing higher is left unread and there is room. */
  private take(arms: BacklogArm[], rows: BacklogRow[], limit: number): void {
    const { cursor } = this.loaded!;
    const byPriority = new Map<number, BacklogRow[]>();
    for (const row of rows) {
      const list = byPriority.get(row.priority) ?? [];
      list.push(row);
      byPriority.set(row.priority, list);
    }
    let room = this.context.policy.maxHeld - this.held;
    let moved = false;
    const fresh: Item[] = [];
    for (const { priority: p } of arms) {
      // Something higher arrived meanwhile and waits in the store: it is read first.
      if (!cursor.clearAtOrAbove(p + 1)) break;
      const list = (byPriority.get(p) ?? []).sort((a, b) => a.seq - b.seq);
      const ledger = this.ledger(p);
      let used = 0;
      let last: number | null = null;
      for (const row of list) {
        if (room === 0) break;
        used++;
        last = row.seq;
        if (this.dismissedWhileReading?.has(row.id) || ledger.isSettled(row.seq) || this.queue.held(row.seq)) continue;
        const item = this.open(row);
        if (!item) continue;
        ledger.addOne(item.seq);
        if (!this.wants(item)) {
          ledger.settleOne(item.seq);
          moved = true;
          continue;
        }
        fresh.push(item);
        room--;
      }
      cursor.read(p, last, used === list.length && list.length < limit);
      if (!cursor.exhausted(p)) break;
    }
    if (moved) this.context.progressMoved(this);
    if (fresh.length === 0) return;
    this.queue.enqueueMany(fresh, { flush: true });
    this.context.holding(this.held);
  }

  /** Decrypts one row; a row that cannot be read is reported and passed over (the watermark moves past it). */
  private open(row: BacklogRow): Item | null {
    try {
      return toItem(row.open(), this.context.policy.link);
    } catch (error) {
      this.context.report(error, `backlog row ${row.seq}`);
      return null;
    }
  }

  /** Drops waiting items below `priority` from memory (not sent, not settled): they are read again in their turn. */
  private evictBelow(priority: number): void {
    const evicted = this.queue.evictPendingBelow(priority);
    const from = new Map<number, number>();
    for (const item of evicted) {
      from.set(item.priority, Math.min(from.get(item.priority) ?? item.seq, item.seq));
    }
    for (const [p, seq] of from) this.loaded!.cursor.rewind(p, seq);
  }

  /** Settles an item held in memory by id; one not held is kept from the page being read. Returns whether it was held. */
  private forget(id: string): boolean {
    const item = this.queue.findHeld((held) => held.id === id);
    if (!item) {
      if (this.reading) (this.dismissedWhileReading ??= new Set()).add(id);
      return false;
    }
    this.queue.settle([item.seq]);
    this.ledger(item.priority).settleOne(item.seq);
    return true;
  }

  private wants(item: Item): boolean {
    if (item.owedTo && !item.owedTo.has(this.deviceId)) return false;
    const topics = this.loaded!.topics;
    return topics === null || item.topic === null || topics.has(item.topic);
  }

  private ledger(priority: number): ProgressLedger {
    const ledger = this.loaded!.ledgers[priority]; // any other number (0, 6, 2.5, NaN) reads undefined
    if (!ledger) throw new RangeError(`no such priority: ${priority}`);
    return ledger;
  }

  private send(batch: OutgoingBatch<Item>): void {
    this.context.sending(this, batch);
    this.connection.sendBatch(batch.items, (reply) => this.context.acked(this, batch.batchId, reply));
  }
}
