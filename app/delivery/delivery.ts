import type { AttachmentLinker, StoredNotification } from '../domain/notification';
import { URGENT_PRIORITY } from '../domain/priority';
import type { DeviceQueueOptions, OutgoingBatch } from '../queue/device-queue';
import type { Timers } from '../queue/timers';
import { DeviceSession, toItem, type Item, type SessionContext, type SessionPolicy } from './device-session';
import { FanOut } from './fan-out';
import type { DeliveryEvents, DeliveryStore, DeviceConnection } from './ports';
import { ProgressSaver } from './progress-saver';
import type { DismissedEvent, RelayListener } from './relay-bus';

// Delivery to connected devices: one DeviceSession per live device (its queue, its per-priority
// progress, its paged backlog); what the bus announces is offered to every session a slice at a
// time; progress and dismissal cursors are written coalesced. gateway/ hands it each socket.

/** The queue policy of every device, and the delivery core's own bounds. */
export interface DeliveryOptions extends Omit<DeviceQueueOptions, 'urgentPriority'> {
  /** Devices served per turn of a fan-out before yielding. */
  fanOutSlice: number;
  /** Notifications one device's session holds in memory at most (raised to two pages of in-flight batches if smaller). */
  maxHeld: number;
  /** ms between coalesced progress writes. */
  saveIntervalMs: number;
  /** Devices per progress write at most (a coalesced write of more is split into several commits). */
  saveChunkDevices: number;
  /** Dismissal ids read per page when a device catches up on what it missed. */
  dismissPage: number;
  /** Signs a stored attachment's link into the wire JSON (absent: attachments are off). */
  link?: AttachmentLinker;
}

/** A notification as offered to each session, and the id it replaces. */
interface Offer {
  item: Item;
  replaces: string | null;
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
 *   await delivery.closeAll();            // at stop: progress written
 */
export class Delivery implements RelayListener {
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly fanOut: FanOut<DeviceSession>;
  private readonly saver: ProgressSaver;
  private readonly context: SessionContext;
  private highWater = 0;
  /** Accepted notifications queued for the fan-out whose step has not reached any session yet. */
  private openGroup: Offer[] | null = null;

  constructor(
    private readonly store: DeliveryStore,
    options: DeliveryOptions,
    clock: DeliveryClock,
    private readonly events: DeliveryEvents = {},
  ) {
    const { fanOutSlice, maxHeld, saveIntervalMs, saveChunkDevices, dismissPage, link, ...queue } = options;
    const window = queue.maxBatch * queue.maxInFlight;
    const held = Math.max(maxHeld, 2 * window);
    const policy: SessionPolicy = { queue: { ...queue, urgentPriority: URGENT_PRIORITY }, maxHeld: held, pageRows: Math.floor(held / 2), dismissPage, link };
    const report = (error: unknown, where: string) => this.events.onError?.(error, where);
    this.fanOut = new FanOut(() => this.sessions.values(), fanOutSlice, (fn) => clock.defer(fn), (e) => report(e, 'fan-out'));
    this.saver = new ProgressSaver((writes) => store.saveProgress(writes), clock.timers, saveIntervalMs, (e) => report(e, 'save progress'), saveChunkDevices);
    this.context = {
      store,
      timers: clock.timers,
      policy,
      sending: (session, batch) => this.sending(session, batch),
      acked: (session, batchId, reply) => this.acked(session, batchId, reply),
      progressMoved: (session) => this.saver.mark(session.deviceId, session.takeProgress),
      holding: (count) => void (this.highWater = Math.max(this.highWater, count)),
      failed: (session, error, where) => {
        report(error, where);
        session.connection.close();
        this.detach(session.deviceId, session.connection);
      },
      report,
    };
  }

  /** A device connected: its backlog first (a page at a time), then whatever arrives. */
  async attach(connection: DeviceConnection): Promise<void> {
    this.sessions.get(connection.deviceId)?.connection.close();
    this.detach(connection.deviceId);
    const session = new DeviceSession(connection, this.context);
    this.sessions.set(connection.deviceId, session);
    // A previous session's last progress is written before this one reads it.
    await this.saver.idle();
    const progress = await this.store.progress(connection.deviceId);
    if (session.closed) return;
    if (!progress) return this.deviceRevoked(connection.deviceId);
    session.start(progress);
    this.touch(connection.deviceId);
    await session.catchUpDismissals();
  }

  /** A socket went away: what it did not ack stays owed in the store; its progress is written now. */
  detach(deviceId: string, connection?: DeviceConnection): void {
    if (this.release(deviceId, connection)) void this.saver.flush();
  }

  /** From the bus, synchronously after the commit (so seqs arrive in order); built once, offered to every session a slice at a time. */
  accepted(notification: StoredNotification): void {
    if (this.sessions.size === 0) return;
    const offer: Offer = { item: toItem(notification, this.context.policy.link), replaces: notification.replaces ?? null };
    // While the fan-out is behind (a thousand phones, a burst), what arrives meanwhile joins the
    // group no session has been offered yet: each session then takes them together, in one frame.
    if (this.openGroup) return void this.openGroup.push(offer);
    const group = [offer];
    this.openGroup = group;
    this.fanOut.run((session) => {
      if (this.openGroup === group) this.openGroup = null;
      session.offerMany(group);
    });
    // An idle fan-out ran the first slice already: the group is closed, the next notification starts its own.
  }

  /** A notification was dismissed (by `byDevice`, or on the desktop when null). */
  dismissed(event: DismissedEvent): void {
    if (this.sessions.size === 0) return;
    this.openGroup = null; // what arrives after a dismissal is offered after it
    this.fanOut.run((session) => session.dismiss(event));
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
    this.sessions.get(deviceId)?.setTopics(topics);
  }

  /** The devices connected now: what a `Cache: no` notification is owed to. */
  connectedIds(): string[] {
    return [...this.sessions.keys()];
  }

  isOnline(deviceId: string): boolean {
    return this.sessions.has(deviceId);
  }

  /** How many notifications the device is still owed (online: counting acks not yet written). */
  async owed(deviceId: string): Promise<number> {
    const progress = this.sessions.get(deviceId)?.currentProgress() ?? (await this.store.progress(deviceId));
    return progress ? this.store.countOwed(progress) : 0;
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

  /** Notifications the live sessions hold in memory now (in flight and queued), all devices together. */
  get held(): number {
    let held = 0;
    for (const session of this.sessions.values()) held += session.held;
    return held;
  }

  /** The most notifications one device's session has held in memory at once since start. */
  get bufferedMax(): number {
    return this.highWater;
  }

  /** The bound on that: a backlog of any size is read a page at a time within it. */
  get bufferBound(): number {
    return this.context.policy.maxHeld;
  }

  /** Resolves once every progress write taken so far is done (a lease is given up after it). */
  settled(): Promise<void> {
    return this.saver.idle();
  }

  /** Disconnect everyone (shutdown); resolves once their progress is written (one write for all). */
  closeAll(): Promise<void> {
    this.fanOut.clear();
    this.openGroup = null; // its step was just dropped: nothing may join it any more
    for (const [deviceId, session] of this.sessions) {
      this.release(deviceId);
      session.connection.close();
    }
    return this.saver.flush();
  }

  private sending(session: DeviceSession, batch: OutgoingBatch<Item>): void {
    this.events.onBatch?.(batch.items.length, batch.redelivered);
    this.events.onSent?.(session.deviceId, batch.items);
  }

  private acked(session: DeviceSession, batchId: number, reply: unknown): void {
    const done = session.ack(batchId, reply);
    if (done.length === 0) return;
    this.events.onDelivered?.(done, Date.now());
    this.events.onAcked?.(session.deviceId, done);
  }

  /** Ends the device's session (if `connection` is given, only if it is that connection's); its progress is marked for the next write. */
  private release(deviceId: string, connection?: DeviceConnection): boolean {
    const session = this.sessions.get(deviceId);
    if (!session || (connection && session.connection !== connection)) return false;
    session.close();
    this.sessions.delete(deviceId);
    this.saver.mark(deviceId, session.takeProgress);
    this.touch(deviceId);
    return true;
  }

  private touch(deviceId: string): void {
    void this.store.touch(deviceId, new Date()).catch((e) => this.events.onError?.(e, 'touch'));
  }
}
