import type { StoredNotification } from '../domain/notification';

// What the dashboard's live feed shows: the last notifications relayed, where each one went
// and whether each device acknowledged it. Bounded. Listeners get small deltas (what is new
// since the last one) at most every FEED_DELTA_MS, never a whole entry per id per device.

export interface FeedDelivery {
  deviceId: string;
  deviceName: string;
  state: 'sent' | 'acked';
  at: string;
}

export interface FeedEntry {
  id: string;
  title: string;
  app: string;
  priority: number;
  source: string;
  createdAt: string;
  deliveries: FeedDelivery[];
  /** Set once it is dismissed: by which device's name, or "desktop" when closed on the PC. */
  dismissed?: { by: string; at: string };
}

/** What changed since the last delta: new entries whole, then each changed delivery and dismissal once (its latest state). */
export interface FeedDelta {
  added: FeedEntry[];
  deliveries: (FeedDelivery & { id: string })[];
  dismissed: { id: string; by: string; at: string }[];
}

export type FeedListener = (delta: FeedDelta) => void;

/** Timers the feed's delta flush runs on (injected: tests drive them). */
export interface FeedTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Entries kept for a dashboard that opens late: a screenful and then some. */
const FEED_CAPACITY = 100;
/** Live listeners (dashboard tabs) at once. */
const MAX_LISTENERS = 32;
/** ms between deltas at most: a dashboard sees changes within it, and a busy relay costs one event per tab per interval. */
export const FEED_DELTA_MS = 250;
/** ms a device name is reused in the feed: a rename shows up within this. */
const NAME_TTL_MS = 30_000;
/** Names remembered; far more than the devices one person pairs. */
const MAX_NAMES = 1024;

const nodeTimers: FeedTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A ring of recent notifications and their per-device fate.
 *
 *   feed.accepted(n); feed.sent(deviceId, [n.id]); feed.acked(deviceId, [n.id]); feed.dismissed(n.id, deviceId);
 *   const stop = feed.subscribe((delta) => sse.write(delta));   // at most every 250 ms
 *   feed.recent();                                              // the whole ring, for a page that opens
 */
export class ActivityFeed {
  private readonly entries = new Map<string, FeedEntry>();
  private readonly listeners = new Set<FeedListener>();
  /** Per entry, its deliveries by device: `mark` runs for every batch, so no linear search. */
  private readonly byDevice = new WeakMap<FeedEntry, Map<string, FeedDelivery>>();
  /** Device names looked up at most every NAME_TTL_MS (a lookup is a query plus a decrypt). */
  private readonly names = new Map<string, { name: string; at: number }>();
  /** What the next delta carries: entries added, and the deliveries and dismissals changed (each once). */
  private pending = { added: new Set<FeedEntry>(), deliveries: new Map<FeedDelivery, string>(), dismissed: new Set<FeedEntry>() };
  private flushTimer: unknown = null;

  constructor(
    private readonly deviceName: (deviceId: string) => string,
    private readonly timers: FeedTimers = nodeTimers,
  ) {}

  accepted(n: StoredNotification): void {
    const entry: FeedEntry = {
      id: n.id,
      title: n.title,
      app: n.app,
      priority: n.priority,
      source: n.source,
      createdAt: n.createdAt,
      deliveries: [],
    };
    this.entries.set(n.id, entry);
    while (this.entries.size > FEED_CAPACITY) this.entries.delete(this.entries.keys().next().value as string);
    if (this.changed()) this.pending.added.add(entry);
  }

  sent(deviceId: string, ids: string[]): void {
    this.mark(deviceId, ids, 'sent');
  }

  acked(deviceId: string, ids: string[]): void {
    this.mark(deviceId, ids, 'acked');
  }

  /** Dismissed everywhere, by a device (`byDevice`) or on the desktop (null). */
  dismissed(id: string, byDevice: string | null): void {
    const entry = this.entries.get(id);
    if (!entry || entry.dismissed) return;
    entry.dismissed = { by: byDevice === null ? 'desktop' : this.nameOf(byDevice), at: new Date().toISOString() };
    if (this.changed() && !this.pending.added.has(entry)) this.pending.dismissed.add(entry);
  }

  /** Newest first. */
  recent(): FeedEntry[] {
    return [...this.entries.values()].reverse();
  }

  /** Returns the unsubscribe function; null when too many listen already. */
  subscribe(listener: FeedListener): (() => void) | null {
    if (this.listeners.size >= MAX_LISTENERS) return null;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Cancels a pending delta (shutdown). */
  stop(): void {
    if (this.flushTimer !== null) this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private mark(deviceId: string, ids: string[], state: FeedDelivery['state']): void {
    let at: string | undefined;
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      let deliveries = this.byDevice.get(entry);
      if (!deliveries) this.byDevice.set(entry, (deliveries = new Map()));
      let delivery = deliveries.get(deviceId);
      if (delivery?.state === 'acked') continue;
      at ??= new Date().toISOString();
      if (delivery) Object.assign(delivery, { state, at });
      else {
        delivery = { deviceId, deviceName: this.nameOf(deviceId), state, at };
        deliveries.set(deviceId, delivery);
        entry.deliveries.push(delivery);
      }
      if (this.changed() && !this.pending.added.has(entry)) this.pending.deliveries.set(delivery, id);
    }
  }

  /** Something changed: whether anyone listens (then a delta is due within FEED_DELTA_MS). */
  private changed(): boolean {
    if (this.listeners.size === 0) return false;
    this.flushTimer ??= this.timers.setTimeout(() => this.flush(), FEED_DELTA_MS);
    return true;
  }

  private flush(): void {
    this.flushTimer = null;
    const { added, deliveries, dismissed } = this.pending;
    this.pending = { added: new Set(), deliveries: new Map(), dismissed: new Set() };
    const delta: FeedDelta = {
      added: [...added],
      deliveries: [...deliveries].map(([delivery, id]) => ({ id, ...delivery })),
      dismissed: [...dismissed].map((entry) => ({ id: entry.id, ...entry.dismissed! })),
    };
    for (const listener of this.listeners) listener(delta);
  }

  private nameOf(deviceId: string): string {
    const now = Date.now();
    const cached = this.names.get(deviceId);
    if (cached && now - cached.at < NAME_TTL_MS) return cached.name;
    const name = this.deviceName(deviceId);
    this.names.set(deviceId, { name, at: now });
    if (this.names.size > MAX_NAMES) this.names.delete(this.names.keys().next().value as string);
    return name;
  }
}
