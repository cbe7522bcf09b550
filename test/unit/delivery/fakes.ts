import type { DeliveryStore, DeviceConnection, EncodedNotification, StoredProgress } from '../../../app/delivery/ports';
import type { StoredNotification, WireNotification } from '../../../app/domain/notification';
import type { Priority } from '../../../app/domain/priority';

// Test doubles for delivery/: a store held in memory whose reads can be held back, and a
// device connection that records every frame and acks when the test says so.

/** A promise the test resolves when it chooses. */
export interface Gate {
  open(): void;
  readonly promise: Promise<void>;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { open, promise };
}

let seqCounter = 0;

/** A stored notification with sensible defaults. */
export function stored(seq: number, fields: Partial<StoredNotification> = {}): StoredNotification {
  seqCounter = Math.max(seqCounter, seq);
  return {
    seq,
    id: `n${seq}`,
    title: `#${seq}`,
    body: '',
    app: 'test',
    priority: 3 as Priority,
    tags: [],
    url: null,
    topic: null,
    source: 'http',
    createdAt: new Date(0).toISOString(),
    dismissedAt: null,
    replaces: null,
    icon: null,
    markdown: false,
    untitled: false,
    tokenId: null,
    ...fields,
  };
}

export class FakeStore implements DeliveryStore {
  readonly notifications: StoredNotification[] = [];
  readonly progressRows = new Map<string, StoredProgress>();
  readonly topics = new Map<string, string[] | null>();
  readonly dismissals: { seq: number; notificationId: string }[] = [];
  /** Every progress write, in order. */
  readonly saves: { deviceId: string; watermark: number; ackedAbove: number[] }[] = [];
  readonly cursorSaves: { deviceId: string; cursor: number }[] = [];
  /** When set, backlog reads wait for it. */
  backlogGate: Gate | null = null;

  addDevice(deviceId: string, watermark = 0, topics: string[] | null = null): void {
    this.progressRows.set(deviceId, { watermark, ackedAbove: [], dismissCursor: 0 });
    this.topics.set(deviceId, topics);
  }

  add(n: StoredNotification): StoredNotification {
    this.notifications.push(n);
    return n;
  }

  dismiss(id: string): { seq: number; dismissalSeq: number } {
    const n = this.notifications.find((x) => x.id === id)!;
    n.dismissedAt = new Date(0).toISOString();
    const dismissalSeq = this.dismissals.length + 1;
    this.dismissals.push({ seq: dismissalSeq, notificationId: id });
    return { seq: n.seq, dismissalSeq };
  }

  async progress(deviceId: string): Promise<StoredProgress | undefined> {
    const p = this.progressRows.get(deviceId);
    return p && { ...p, ackedAbove: [...p.ackedAbove] };
  }

  async deviceTopics(deviceId: string): Promise<string[] | null> {
    return this.topics.get(deviceId) ?? null;
  }

  async pendingAbove(watermark: number): Promise<StoredNotification[]> {
    const snapshot = this.notifications.filter((n) => n.seq > watermark && n.dismissedAt === null).map((n) => ({ ...n }));
    await this.backlogGate?.promise;
    return snapshot;
  }

  async saveProgress(deviceId: string, compute: () => { watermark: number; ackedAbove: number[] }): Promise<void> {
    await Promise.resolve();
    const { watermark, ackedAbove } = compute();
    this.saves.push({ deviceId, watermark, ackedAbove });
    const row = this.progressRows.get(deviceId)!;
    Object.assign(row, { watermark, ackedAbove });
  }

  async dismissalsAfter(cursor: number): Promise<{ seq: number; notificationId: string }[]> {
    return this.dismissals.filter((d) => d.seq > cursor);
  }

  async saveDismissCursor(deviceId: string, cursor: number): Promise<void> {
    this.cursorSaves.push({ deviceId, cursor });
    const row = this.progressRows.get(deviceId);
    if (row) row.dismissCursor = Math.max(row.dismissCursor, cursor);
  }

  async touch(): Promise<void> {}
}

/** A device's socket: frames are kept; `ack` answers one. */
export class FakeConnection implements DeviceConnection {
  readonly frames: { items: WireNotification[]; ack: (reply: unknown) => void }[] = [];
  /** The encoded items of each frame, as delivery handed them over. */
  readonly encoded: (readonly EncodedNotification[])[] = [];
  readonly dismissed: string[][] = [];
  revoked = false;
  closed = false;

  constructor(readonly deviceId: string) {}

  sendBatch(items: readonly EncodedNotification[], onAck: (reply: unknown) => void): void {
    this.encoded.push(items);
    this.frames.push({ items: items.map((i) => JSON.parse(i.json) as WireNotification), ack: onAck });
  }

  sendDismissed(ids: string[]): void {
    this.dismissed.push(ids);
  }

  revoke(): void {
    this.revoked = true;
  }

  close(): void {
    this.closed = true;
  }

  /** Ids of every frame, in order. */
  get ids(): string[][] {
    return this.frames.map((f) => f.items.map((i) => i.id));
  }

  /** Acks frame `index` fully (or the given ids). */
  ack(index: number, ids = this.frames[index].items.map((i) => i.id)): void {
    this.frames[index].ack({ ack: ids });
  }
}

/** Lets pending promise callbacks run (the fake store answers in microtasks). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
