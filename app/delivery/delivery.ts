import type { StoredNotification } from '../domain/notification';
import { toWire } from '../domain/notification';
import { URGENT_PRIORITY } from '../domain/priority';
import { DeviceQueue, type DeviceQueueOptions, type OutgoingBatch } from '../queue/device-queue';
import { ProgressLedger } from '../queue/progress-ledger';
import type { Timers } from '../queue/timers';
import { FanOut } from './fan-out';
import type { DeliveryEvents, DeliveryStore, DeviceConnection, EncodedNotification } from './ports';
import type { DismissedEvent, RelayListener } from './relay-bus';

// Delivery to connected devices: one DeviceQueue and ProgressLedger per live device; acks
// settle and persist progress; dismissals fan out; revocation closes the socket. It listens on
// the RelayBus (accepted, dismissed, deviceRevoked); gateway/ hands it each socket.

/** A notification as queued: built once per notification and shared by every device's queue. */
interface Item extends EncodedNotification {
  seq: number;
  priority: number;
  topic: string | null;
  /** ms since epoch when it was accepted, for the latency histogram. */
  acceptedAtMs: number;
}

interface Session {
  connection: DeviceConnection;
  queue: DeviceQueue<Item>;
  ledger: ProgressLedger | null;
  /** Live arrivals while the backlog loads. */
  buffer: Item[] | null;
  /** Seqs dismissed while the backlog loads, settled once the ledger exists. */
  settledWhileLoading: number[];
  /** Unsettled items by public id, to map acks back to seqs. */
  items: Map<string, Item>;
  saving: boolean;
  closed: boolean;
  /** The device's topic filter; null = every topic. Untopiced notifications always pass. */
  topics: Set<string> | null;
}

/** An ack may name at most this many ids (a batch holds far fewer); the rest is ignored. */
const MAX_ACK_IDS = 1024;

function wants(session: Session, item: Item): boolean {
  return session.topics === null || item.topic === null || session.topics.has(item.topic);
}

/** Encode once: the wire JSON is built here, once per notification, whatever the number of devices. */
function toItem(n: StoredNotification): Item {
  return { seq: n.seq, priority: n.priority, id: n.id, topic: n.topic, json: JSON.stringify(toWire(n)), acceptedAtMs: Date.parse(n.createdAt) };
}

/** The queue policy of every device, and how many devices a fan-out serves per turn. */
export interface DeliveryOptions extends Omit<DeviceQueueOptions, 'urgentPriority'> {
  fanOutSlice: number;
}

/** Time for delivery: the queues' timers (a TimerWheel in production) and a yield between fan-out slices (setImmediate). */
export interface DeliveryClock {
  timers: Timers;
  defer(fn: () => void): void;
}

/**
 * Delivers accepted notifications to the devices that are online.
 *
 *   bus.subscribe(delivery);              // accepted, dismissed, deviceRevoked
 *   delivery.attach(connection);          // on an authenticated socket
 */
export class Delivery implements RelayListener {
  private readonly sessions = new Map<string, Session>();
  private readonly fanOut: FanOut<Session>;
  private readonly timers: Timers;
  private readonly queueOptions: DeviceQueueOptions;

  constructor(
    private readonly store: DeliveryStore,
    options: DeliveryOptions,
    clock: DeliveryClock,
    private readonly events: DeliveryEvents = {},
  ) {
    const { fanOutSlice, ...queue } = options;
    this.queueOptions = { ...queue, urgentPriority: URGENT_PRIORITY };
    this.timers = clock.timers;
    this.fanOut = new FanOut(() => this.sessions.values(), fanOutSlice, (fn) => clock.defer(fn), (e) => this.events.onError?.(e, 'fan-out'));
  }

  /** A device connected: send its backlog first, then whatever arrives. */
  async attach(connection: DeviceConnection): Promise<void> {
    this.sessions.get(connection.deviceId)?.connection.close();
    this.detach(connection.deviceId);
    const session: Session = {
      connection,
      queue: new DeviceQueue<Item>(this.queueOptions, this.timers, (b) => this.send(session, b)),
      ledger: null,
      buffer: [],
      settledWhileLoading: [],
      items: new Map(),
      saving: false,
      closed: false,
      topics: null,
    };
    this.sessions.set(connection.deviceId, session);
    const progress = await this.store.progress(connection.deviceId);
    if (session.closed) return;
    if (!progress) return this.deviceRevoked(connection.deviceId);
    const topics = await this.store.deviceTopics(connection.deviceId);
    session.topics = topics ? new Set(topics) : null;
    const backlog = await this.store.pendingAbove(progress.watermark);
    if (session.closed) return;
    const ledger = new ProgressLedger(progress.watermark, progress.ackedAbove);
    ledger.settle(session.settledWhileLoading);
    const items = [...backlog.map(toItem), ...session.buffer!].filter((i) => !ledger.isSettled(i.seq));
    session.ledger = ledger;
    session.buffer = null;
    this.skip(session, items.filter((i) => !wants(session, i)));
    this.enqueue(session, items.filter((i) => wants(session, i)), true);
    void this.store.touch(connection.deviceId, new Date()).catch((e) => this.events.onError?.(e, 'touch'));
    await this.sendMissedDismissals(session, progress.dismissCursor);
  }

  /** A socket went away: its unacknowledged items stay owed in the store. */
  detach(deviceId: string, connection?: DeviceConnection): void {
    const session = this.sessions.get(deviceId);
    if (!session || (connection && session.connection !== connection)) return;
    session.closed = true;
    session.queue.close();
    this.sessions.delete(deviceId);
    void this.store.touch(deviceId, new Date()).catch((e) => this.events.onError?.(e, 'touch'));
  }

  /** From the bus, synchronously after the commit (so seqs arrive in order); built once, offered to every session a slice at a time. */
  accepted(notification: StoredNotification): void {
    if (this.sessions.size === 0) return;
    const item = toItem(notification);
    this.fanOut.run((session) => this.offer(session, item, notification.replaces ?? null));
  }

  /** A notification was dismissed (by `byDevice`, or on the desktop when null). */
  dismissed(event: DismissedEvent): void {
    if (this.sessions.size === 0) return;
    this.fanOut.run((session) => this.dismissIn(session, event));
  }

  /** Tell the device and disconnect it (its tokens are already dead). */
  deviceRevoked(deviceId: string): void {
    const session = this.sessions.get(deviceId);
    if (!session) return;
    this.detach(deviceId);
    session.connection.revoke();
  }

  /** The device chose new topics: they apply to what is sent from now on. */
  setTopics(deviceId: string, topics: string[] | null): void {
    const session = this.sessions.get(deviceId);
    if (session) session.topics = topics ? new Set(topics) : null;
  }

  isOnline(deviceId: string): boolean {
    return this.sessions.has(deviceId);
  }

  /** Unsettled notifications of an online device, or undefined when offline. */
  pending(deviceId: string): number | undefined {
    const session = this.sessions.get(deviceId);
    if (!session) return undefined;
    return session.ledger ? session.ledger.unsettled : session.buffer!.length;
  }

  /** Queue depth by priority across live devices (waiting to be sent). */
  depthByPriority(): Record<number, number> {
    const depth: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
    for (const s of this.sessions.values()) {
      for (const [p, n] of Object.entries(s.queue.depthByPriority())) depth[Number(p)] += n;
    }
    return depth;
  }

  get connected(): number {
    return this.sessions.size;
  }

  /** Disconnect everyone (shutdown). */
  closeAll(): void {
    this.fanOut.clear();
    for (const [deviceId, session] of this.sessions) {
      this.detach(deviceId);
      session.connection.close();
    }
  }

  private offer(session: Session, item: Item, replaces: string | null): void {
    if (session.closed) return;
    // An update supersedes what it replaces: an unsent or unacked old version is not owed any more.
    const old = replaces ? session.items.get(replaces) : undefined;
    if (old && session.ledger) {
      session.queue.settle([old.seq]);
      session.ledger.settle([old.seq]);
      session.items.delete(old.id);
    }
    if (session.buffer) session.buffer.push(item);
    else if (session.ledger!.isSettled(item.seq)) return;
    else if (wants(session, item)) this.enqueue(session, [item], false);
    else this.skip(session, [item]);
  }

  private dismissIn(session: Session, { id, seq, dismissalSeq, byDevice }: DismissedEvent): void {
    if (session.closed) return;
    const deviceId = session.connection.deviceId;
    session.queue.settle([seq]);
    if (session.ledger) session.ledger.settle([seq]);
    else session.settledWhileLoading.push(seq);
    session.items.delete(id);
    if (deviceId !== byDevice) session.connection.sendDismissed([id]);
    void this.store.saveDismissCursor(deviceId, dismissalSeq).catch((e) => this.events.onError?.(e, 'dismiss cursor'));
  }

  private enqueue(session: Session, items: Item[], flush: boolean): void {
    for (const item of items) session.items.set(item.id, item);
    session.ledger!.addKnown(items.map((i) => i.seq));
    session.queue.enqueueMany(items, { flush });
  }

  /** Outside the device's topics: not owed, settled at once so its watermark moves past them. */
  private skip(session: Session, items: Item[]): void {
    if (items.length === 0) return;
    const seqs = items.map((i) => i.seq);
    session.ledger!.addKnown(seqs);
    session.ledger!.settle(seqs);
    this.persist(session);
  }

  private send(session: Session, batch: OutgoingBatch<Item>): void {
    this.events.onBatch?.(batch.items.length, batch.redelivered);
    this.events.onSent?.(session.connection.deviceId, batch.items.map((i) => i.id));
    session.connection.sendBatch(batch.items, (reply) => this.onAck(session, batch.batchId, reply));
  }

  private onAck(session: Session, batchId: number, reply: unknown): void {
    if (session.closed) return;
    const ids = (reply as { ack?: unknown } | null)?.ack;
    const acked: Item[] = [];
    if (Array.isArray(ids)) {
      for (const id of ids.slice(0, MAX_ACK_IDS)) {
        const item = typeof id === 'string' ? session.items.get(id) : undefined;
        if (item) acked.push(item);
      }
    }
    const settled = new Set(session.queue.acknowledge(batchId, acked.map((i) => i.seq)));
    if (settled.size === 0) return;
    const now = Date.now();
    const latencies: number[] = [];
    const ackedIds: string[] = [];
    for (const item of acked) {
      if (!settled.has(item.seq)) continue;
      session.items.delete(item.id);
      ackedIds.push(item.id);
      latencies.push(Math.max(0, now - item.acceptedAtMs) / 1000);
    }
    session.ledger!.settle([...settled]);
    this.events.onDelivered?.(latencies);
    this.events.onAcked?.(session.connection.deviceId, ackedIds);
    this.persist(session);
  }

  /** Coalesces progress writes: one queued save captures every ack before its commit. */
  private persist(session: Session): void {
    if (session.saving) return;
    session.saving = true;
    const deviceId = session.connection.deviceId;
    this.store
      .saveProgress(deviceId, () => {
        session.saving = false;
        const snapshot = session.ledger!.snapshot();
        // Below the watermark the ledger answers "settled" itself; the queue may forget them.
        session.queue.forgetSettledUpTo(snapshot.watermark);
        return snapshot;
      })
      .catch((e) => {
        session.saving = false;
        this.events.onError?.(e, 'save progress');
      });
  }

  private async sendMissedDismissals(session: Session, cursor: number): Promise<void> {
    const missed = await this.store.dismissalsAfter(cursor);
    if (missed.length === 0 || session.closed) return;
    session.connection.sendDismissed(missed.map((d) => d.notificationId));
    await this.store.saveDismissCursor(session.connection.deviceId, missed[missed.length - 1].seq);
  }
}
