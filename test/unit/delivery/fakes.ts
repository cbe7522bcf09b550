import type { BacklogArm } from '../../../app/delivery/backlog-cursor';
import type { BacklogRow, DeliveryStore, DeviceConnection, EncodedNotification, ProgressWrite, StoredProgress } from '../../../app/delivery/ports';
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
  readonly dismissals: { seq: number; notificationId: string }[] = [];
  /** Every progress write (one per coalesced save), in order. */
  readonly saves: ProgressWrite[][] = [];
  /** Every page read: its arms and limit, and how many rows it returned. */
  readonly reads: { arms: BacklogArm[]; limit: number; rows: number }[] = [];
  /** When set, page reads wait for it (after taking their snapshot). */
  pageGate: Gate | null = null;

  addDevice(deviceId: string, watermark = 0, topics: string[] | null = null): void {
    const priorities: StoredProgress['priorities'] = {};
    for (const p of [1, 2, 3, 4, 5]) priorities[p] = { watermark, ackedAbove: [] };
    this.progressRows.set(deviceId, { priorities, dismissCursor: 0, topics });
  }

  /** A device's stored watermark of one priority. */
  watermark(deviceId: string, priority = 3): number {
    return this.progressRows.get(deviceId)!.priorities[priority].watermark;
  }

  add(n: StoredNotification): StoredNotification {
    this.notifications.push(n);
    return n;
  }

  /** As a replacing notification's commit does: the old one is dismissed, with no dismissal row. */
  replace(id: string): void {
    this.notifications.find((x) => x.id === id)!.dismissedAt = new Date(0).toISOString();
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
    return p && (JSON.parse(JSON.stringify(p)) as StoredProgress);
  }

  async page(arms: BacklogArm[], limit: number): Promise<BacklogRow[]> {
    const rows: BacklogRow[] = [];
    for (const { priority, afterSeq } of arms) {
      const owed = this.notifications
        .filter((n) => n.priority === priority && n.seq > afterSeq && n.dismissedAt === null)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit)
        .map((n) => ({ ...n }));
      for (const n of owed) rows.push({ seq: n.seq, priority: n.priority, id: n.id, open: () => n });
    }
    this.reads.push({ arms, limit, rows: rows.length });
    await this.pageGate?.promise;
    return rows;
  }

  async saveProgress(writes: ProgressWrite[]): Promise<void> {
    await Promise.resolve();
    this.saves.push(writes);
    for (const write of writes) {
      const row = this.progressRows.get(write.deviceId);
      if (!row) continue;
      for (const { priority, watermark, ackedAbove } of write.priorities) row.priorities[priority] = { watermark, ackedAbove };
      if (write.dismissCursor !== undefined) row.dismissCursor = Math.max(row.dismissCursor, write.dismissCursor);
    }
  }

  async dismissalsAfter(cursor: number, limit: number): Promise<{ seq: number; notificationId: string }[]> {
    return this.dismissals.filter((d) => d.seq > cursor).slice(0, limit);
  }

  async countOwed(progress: StoredProgress): Promise<number> {
    return this.notifications.filter((n) => {
      const { watermark, ackedAbove } = progress.priorities[n.priority];
      const topical = progress.topics === null || n.topic === null || progress.topics.includes(n.topic);
      return n.dismissedAt === null && n.seq > watermark && !ackedAbove.includes(n.seq) && topical;
    }).length;
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
  /** Ack every frame in full, a microtask after it arrives. */
  autoAck = false;
  private acked = 0;

  constructor(readonly deviceId: string) {}

  sendBatch(items: readonly EncodedNotification[], onAck: (reply: unknown) => void): void {
    this.encoded.push(items);
    const frame = { items: items.map((i) => JSON.parse(i.json) as WireNotification), ack: onAck };
    this.frames.push(frame);
    if (this.autoAck) queueMicrotask(() => onAck({ ack: frame.items.map((i) => i.id) }));
  }

  /** Acks, in full, the oldest frame not acked yet by `acks()` or `ackNext()`. */
  ackNext(): void {
    if (this.acked < this.frames.length) this.ack(this.acked++);
  }

  /** Acks, in full, every frame not acked yet by `acks()`. */
  acks(): void {
    while (this.acked < this.frames.length) this.ack(this.acked++);
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
