import type { StoredNotification } from '../domain/notification';

// What the dashboard's live feed shows: the last notifications relayed, where each one went
// and whether each device acknowledged it. Bounded; subscribers get every change.

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

export type FeedListener = (entry: FeedEntry) => void;

/** Entries kept for a dashboard that opens late: a screenful and then some. */
const FEED_CAPACITY = 100;
/** Live listeners (dashboard tabs) at once. */
const MAX_LISTENERS = 32;

/**
 * A ring of recent notifications and their per-device fate.
 *
 *   feed.accepted(n); feed.sent(deviceId, [n.id]); feed.acked(deviceId, [n.id]); feed.dismissed(n.id, deviceId);
 *   const stop = feed.subscribe((entry) => sse.write(entry));
 */
/** ms a device name is reused in the feed: a rename shows up within this. */
const NAME_TTL_MS = 30_000;
/** Names remembered; far more than the devices one person pairs. */
const MAX_NAMES = 1024;

export class ActivityFeed {
  private readonly entries = new Map<string, FeedEntry>();
  private readonly listeners = new Set<FeedListener>();
  /** Per entry, its deliveries by device: `mark` runs for every batch, so no linear search. */
  private readonly byDevice = new WeakMap<FeedEntry, Map<string, FeedDelivery>>();
  /** Device names looked up at most every NAME_TTL_MS (a lookup is a query plus a decrypt). */
  private readonly names = new Map<string, { name: string; at: number }>();

  constructor(private readonly deviceName: (deviceId: string) => string) {}

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
    this.publish(entry);
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
    this.publish(entry);
  }

  /** Newest first. */
  recent(): FeedEntry[] {
    return [...this.entries.values()].reverse();
  }

  /** Returns the unsubscribe function; false when too many listen already. */
  subscribe(listener: FeedListener): (() => void) | null {
    if (this.listeners.size >= MAX_LISTENERS) return null;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private mark(deviceId: string, ids: string[], state: FeedDelivery['state']): void {
    const at = new Date().toISOString();
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      let deliveries = this.byDevice.get(entry);
      if (!deliveries) this.byDevice.set(entry, (deliveries = new Map()));
      const existing = deliveries.get(deviceId);
      if (existing && existing.state === 'acked') continue;
      if (existing) Object.assign(existing, { state, at });
      else {
        const delivery = { deviceId, deviceName: this.nameOf(deviceId), state, at };
        deliveries.set(deviceId, delivery);
        entry.deliveries.push(delivery);
      }
      this.publish(entry);
    }
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

  private publish(entry: FeedEntry): void {
    for (const listener of this.listeners) listener(entry);
  }
}
