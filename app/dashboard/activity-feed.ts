import type { StoredNotification } from '../domain/notification';

// What the dashboard's live feed shows: the last notifications relayed, where each one went
// and whether each device acknowledged it. Bounded. Listeners get small deltas (what is new
// since the last one) at most every FEED_DELTA_MS, never a whole entry per id per device.
// Device names are looked up asynchronously (a store port [cluster] can serve); a delta waits
// for the lookups in flight, so it always carries names.

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
  /** Devices past the listed ones (dashboard.feedDevicesListed), counted rather than listed (absent while there are none). */
  others?: FeedOthers;
  /** Set once it is dismissed: by which device's name, or "desktop" when closed on the PC. */
  dismissed?: { by: string; at: string };
}

/** How many devices past the listed ones it went to, and how many of them acknowledged it. */
export interface FeedOthers {
  devices: number;
  acked: number;
}

/** What changed since the last delta: new entries whole, then each changed delivery, count and dismissal once (its latest state). */
export interface FeedDelta {
  added: FeedEntry[];
  deliveries: (FeedDelivery & { id: string })[];
  others: (FeedOthers & { id: string })[];
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
/** A counted device: sent, or sent and acknowledged. */
const SENT = 1;
const ACKED = 2;
/** Live listeners (dashboard tabs) at once. */
const MAX_LISTENERS = 32;
/** Devices numbered for the counted states (far more than one person pairs); past it the numbering starts over. */
const MAX_DEVICE_SLOTS = 4096;

/** An entry and where it went: the listed devices by id, the counted ones by device slot. */
interface Tracked {
  entry: FeedEntry;
  /** Made with the first delivery (an entry nobody is sent has none). */
  listed: Map<string, FeedDelivery> | null;
  /** Per device slot: 0 not seen, SENT or ACKED (null until a device past the listed ones shows up). */
  states: Uint8Array | null;
  /** The slot numbering `states` was made under. */
  numbering: number;
}

/**
 * Gives each device a small number, so what an entry records per counted device is one byte in
 * an array rather than a map entry (a thousand phones mark every entry twice). Bounded: past
 * `max` devices the numbering starts over, and arrays made under an older one are dropped.
 */
class DeviceSlots {
  private readonly slots = new Map<string, number>();
  numbering = 0;

  constructor(private readonly max: number) {}

  slotOf(deviceId: string): number {
    let slot = this.slots.get(deviceId);
    if (slot === undefined) {
      if (this.slots.size >= this.max) {
        this.slots.clear();
        this.numbering++;
      }
      slot = this.slots.size;
      this.slots.set(deviceId, slot);
    }
    return slot;
  }
}
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
  /** By id, each entry with its deliveries by device: `mark` runs for every batch, so no linear search. */
  private readonly entries = new Map<string, Tracked>();
  private readonly listeners = new Set<FeedListener>();
  private readonly slots = new DeviceSlots(MAX_DEVICE_SLOTS);
  /** Device names looked up at most every NAME_TTL_MS (a lookup is a query plus a decrypt). */
  private readonly names = new Map<string, { name: string; at: number }>();
  /** Per device whose name is being looked up: who takes it when it arrives. */
  private readonly awaitingName = new Map<string, ((name: string) => void)[]>();
  /** Name lookups in flight (they never reject); a delta waits for them. */
  private readonly lookups = new Set<Promise<void>>();
  /** A delta is due but waits for name lookups; bumped by stop() so a waiting one is dropped. */
  private waitingForNames = false;
  private generation = 0;
  /** What the next delta carries: entries added, and the deliveries and dismissals changed (each once). */
  private pending = { added: new Set<FeedEntry>(), deliveries: new Map<FeedDelivery, string>(), others: new Set<FeedEntry>(), dismissed: new Set<FeedEntry>() };
  private flushTimer: unknown = null;
  private isoAt = 0;
  private iso = '';

  constructor(
    private readonly deviceName: (deviceId: string) => Promise<string>,
    /** Devices listed by name per entry (config dashboard.feedDevicesListed); the rest are counted. */
    private readonly listed: number,
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
    this.entries.set(n.id, { entry, listed: null, states: null, numbering: 0 });
    while (this.entries.size > FEED_CAPACITY) this.entries.delete(this.entries.keys().next().value as string);
    if (this.changed()) this.pending.added.add(entry);
  }

  /** A batch left for the device (first send or redelivery). */
  sent(deviceId: string, items: readonly { id: string }[]): void {
    this.mark(deviceId, items, 'sent');
  }

  /** The device acknowledged these. */
  acked(deviceId: string, items: readonly { id: string }[]): void {
    this.mark(deviceId, items, 'acked');
  }

  /** Dismissed everywhere, by a device (`byDevice`) or on the desktop (null). */
  dismissed(id: string, byDevice: string | null): void {
    const entry = this.entries.get(id)?.entry;
    if (!entry || entry.dismissed) return;
    const dismissed = { by: 'desktop', at: new Date().toISOString() };
    entry.dismissed = dismissed;
    if (byDevice !== null) this.nameOf(byDevice, (name) => (dismissed.by = name));
    if (this.changed() && !this.pending.added.has(entry)) this.pending.dismissed.add(entry);
  }

  /** Newest first. */
  recent(): FeedEntry[] {
    return [...this.entries.values()].map((t) => t.entry).reverse();
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
    this.waitingForNames = false;
    this.generation++;
  }

  private mark(deviceId: string, items: readonly { id: string }[], state: FeedDelivery['state']): void {
    // Runs for every batch sent and acked (per notification per device): map lookups and field
    // writes only; the time, the device's name and its slot are looked up once per batch.
    let at: string | undefined;
    let name: string | null | undefined;
    let slot = -1;
    for (const { id } of items) {
      const tracked = this.entries.get(id);
      if (!tracked) continue;
      const { entry } = tracked;
      const listed = (tracked.listed ??= new Map());
      let delivery = listed.get(deviceId);
      if (delivery?.state === 'acked') continue;
      if (!delivery && listed.size >= this.listed) {
        if (slot < 0) slot = this.slots.slotOf(deviceId);
        if (this.count(tracked, slot, state) && this.changed() && !this.pending.added.has(entry)) this.pending.others.add(entry);
        continue;
      }
      at ??= this.isoNow();
      if (delivery) {
        delivery.state = state;
        delivery.at = at;
      } else {
        const created: FeedDelivery = { deviceId, deviceName: '', state, at };
        if (name === undefined) name = this.freshName(deviceId);
        if (name !== null) created.deviceName = name;
        else this.nameOf(deviceId, (looked) => (created.deviceName = looked));
        delivery = created;
        listed.set(deviceId, delivery);
        entry.deliveries.push(delivery);
      }
      if (this.changed() && !this.pending.added.has(entry)) this.pending.deliveries.set(delivery, id);
    }
  }

  /** The device's name if it was looked up within NAME_TTL_MS, else null (then nameOf looks it up). */
  private freshName(deviceId: string): string | null {
    const cached = this.names.get(deviceId);
    return cached && Date.now() - cached.at < NAME_TTL_MS ? cached.name : null;
  }

  /** The current time as an ISO string, rebuilt only when the millisecond changed. */
  private isoNow(): string {
    const now = Date.now();
    if (now !== this.isoAt) {
      this.isoAt = now;
      this.iso = new Date(now).toISOString();
    }
    return this.iso;
  }

  /** Counts a device past the listed ones; returns whether the entry's counts changed. */
  private count(tracked: Tracked, slot: number, state: FeedDelivery['state']): boolean {
    let states = tracked.states;
    if (states === null || tracked.numbering !== this.slots.numbering) {
      // New, or made under a numbering that started over: its devices are counted afresh (counts kept).
      states = tracked.states = new Uint8Array(Math.max(64, slot + 1));
      tracked.numbering = this.slots.numbering;
    } else if (slot >= states.length) {
      const grown = new Uint8Array(Math.max(slot + 1, states.length * 2));
      grown.set(states);
      states = tracked.states = grown;
    }
    const was = states[slot];
    const now = state === 'acked' ? ACKED : SENT;
    if (was >= now) return false;
    states[slot] = now;
    const others = (tracked.entry.others ??= { devices: 0, acked: 0 });
    if (was === 0) others.devices++;
    if (now === ACKED) others.acked++;
    return true;
  }

  /** Something changed: whether anyone listens (then a delta is due within FEED_DELTA_MS). */
  private changed(): boolean {
    if (this.listeners.size === 0) return false;
    if (!this.waitingForNames) this.flushTimer ??= this.timers.setTimeout(() => this.flush(), FEED_DELTA_MS);
    return true;
  }

  private flush(): void {
    this.flushTimer = null;
    if (this.lookups.size > 0) {
      // Names still being looked up: the delta goes once they are in (what changes meanwhile joins it).
      this.waitingForNames = true;
      const generation = this.generation;
      void Promise.all(this.lookups).then(() => {
        if (generation !== this.generation) return;
        this.waitingForNames = false;
        this.flush();
      });
      return;
    }
    const { added, deliveries, others, dismissed } = this.pending;
    this.pending = { added: new Set(), deliveries: new Map(), others: new Set(), dismissed: new Set() };
    const delta: FeedDelta = {
      added: [...added],
      deliveries: [...deliveries].map(([delivery, id]) => ({ id, ...delivery })),
      others: [...others].map((entry) => ({ id: entry.id, ...entry.others! })),
      dismissed: [...dismissed].map((entry) => ({ id: entry.id, ...entry.dismissed! })),
    };
    for (const listener of this.listeners) listener(delta);
  }

  /** Gives `take` the device's name: at once when known lately, else the last one (or the short id) and then the looked-up one. */
  private nameOf(deviceId: string, take: (name: string) => void): void {
    const now = Date.now();
    const cached = this.names.get(deviceId);
    take(cached?.name ?? deviceId.slice(0, 8));
    if (cached && now - cached.at < NAME_TTL_MS) return;
    const waiting = this.awaitingName.get(deviceId);
    if (waiting) return void waiting.push(take);
    this.awaitingName.set(deviceId, [take]);
    const lookup = this.deviceName(deviceId)
      .then(
        (name) => {
          this.names.set(deviceId, { name, at: Date.now() });
          if (this.names.size > MAX_NAMES) this.names.delete(this.names.keys().next().value as string);
          return name;
        },
        () => cached?.name ?? deviceId.slice(0, 8),
      )
      .then((name) => {
        for (const give of this.awaitingName.get(deviceId) ?? []) give(name);
        this.awaitingName.delete(deviceId);
        this.lookups.delete(lookup);
      });
    this.lookups.add(lookup);
  }
}
