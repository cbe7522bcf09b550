import type Redis from 'ioredis';
import type { BacklogArm } from '../delivery/backlog-cursor';
import type { BacklogRow, DeliveryStore, PriorityProgress, ProgressWrite, StoredProgress } from '../delivery/ports';
import type { FieldSealer } from '../store/rows';
import type { DeviceLeases } from './device-leases';
import { COUNT_OWED, PAGE, SAVE_PROGRESS, TOUCH } from './progress-scripts';
import { RedisCommitError } from './redis-errors';
import type { RedisKeys } from './redis-keys';
import { decodeEntry, streamId } from './stream-entry';

// Delivery's storage port on Redis, with the semantics of store/delivery-store.ts: progress per
// priority (a watermark plus the seqs acked above it; a priority never written starts at the
// device's pairing seq), backlog pages by (priority, seq) from the owed indexes, coalesced
// progress writes for many devices in one script, dismissal cursors that only move forward.
// Only the node holding a device's lease writes its progress (device-leases.ts): a write taken
// under a lease that is gone is dropped, which costs a resend, never a loss. Writes Redis did not
// take (unreachable, out of memory) are held and go with the next write, so acks are not lost
// while Redis is away.

const PRIORITIES = [1, 2, 3, 4, 5];

/** Told when a device's write was refused because its lease is gone: the node should close that socket. */
export type FencedListener = (deviceId: string) => void;

/** Implements DeliveryStore on Redis for the devices this node holds. */
export class RedisDeliveryStore implements DeliveryStore {
  /** Writes not taken yet, by device (the newest per priority; the highest cursor). */
  private held = new Map<string, ProgressWrite>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
    private readonly leases: DeviceLeases,
    private readonly onFenced: FencedListener = () => undefined,
  ) {}

  async progress(deviceId: string): Promise<StoredProgress | undefined> {
    const [[, device], [, stored]] = (await this.redis.multi().hgetall(this.keys.device(deviceId)).hgetall(this.keys.progress(deviceId)).exec()) as [unknown, Record<string, string>][];
    if (device.pairedSeq === undefined || device.revokedAt !== undefined) return undefined;
    const priorities: Record<number, PriorityProgress> = {};
    for (const p of PRIORITIES) {
      priorities[p] = { watermark: Number(stored[`w${p}`] ?? device.pairedSeq), ackedAbove: JSON.parse(stored[`a${p}`] ?? '[]') as number[] };
    }
    return { priorities, dismissCursor: Number(stored.dc ?? 0), topics: device.topics === undefined ? null : (JSON.parse(device.topics) as string[]) };
  }

  async page(arms: BacklogArm[], limit: number): Promise<BacklogRow[]> {
    if (arms.length === 0) return [];
    const flat = (await PAGE.run(this.redis, [this.keys.prefix, limit, ...arms.flatMap((a) => [a.priority, a.afterSeq])])) as string[];
    const rows: BacklogRow[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const seq = Number(flat[i]);
      const json = flat[i + 2];
      // The id is in clear in the entry; only a row the session takes is decrypted.
      rows.push({ seq, priority: Number(flat[i + 1]), id: (JSON.parse(json) as { id: string }).id, open: () => decodeEntry(this.sealer, seq, json) });
    }
    return rows;
  }

  async saveProgress(writes: ProgressWrite[]): Promise<void> {
    const merged = this.held;
    this.held = new Map();
    for (const w of writes) merged.set(w.deviceId, mergeWrite(merged.get(w.deviceId), w));
    const batch: { d: string; l: string; p: string[][]; c?: string }[] = [];
    for (const w of merged.values()) {
      const lease = this.leases.leaseOf(w.deviceId);
      // Not held here (released, or lost): another node owns its progress now.
      if (lease === undefined) continue;
      batch.push({ d: w.deviceId, l: lease, p: w.priorities.map((p) => [String(p.priority), String(p.watermark), JSON.stringify(p.ackedAbove)]), ...(w.dismissCursor !== undefined ? { c: String(w.dismissCursor) } : {}) });
    }
    if (batch.length === 0) return;
    let fenced: string[];
    try {
      fenced = (await SAVE_PROGRESS.run(this.redis, [this.keys.prefix, JSON.stringify(batch)])) as string[];
    } catch (error) {
      // Kept for the next write (newer writes of the same device merge over them).
      for (const [id, w] of merged) this.held.set(id, this.held.has(id) ? mergeWrite(w, this.held.get(id)!) : w);
      throw new RedisCommitError(error);
    }
    for (const deviceId of fenced) {
      const lease = batch.find((b) => b.d === deviceId)!.l;
      this.leases.lost(deviceId, lease);
      this.onFenced(deviceId);
    }
  }

  /** Devices whose writes wait for Redis (for /health and metrics). */
  get heldWrites(): number {
    return this.held.size;
  }

  /** Writes the held ones now (Redis is back). */
  flushHeld(): Promise<void> {
    return this.saveProgress([]);
  }

  async dismissalsAfter(cursor: number, limit: number): Promise<{ seq: number; notificationId: string }[]> {
    const entries = await this.redis.xrange(this.keys.dismissals, `(${streamId(cursor)}`, '+', 'COUNT', limit);
    // Fields are [id, <notification id>, by, <device>, at, <ms>] (outbox-scripts.ts DISMISS).
    return entries.map(([id, fields]) => ({ seq: Number.parseInt(id, 10), notificationId: fields[1] }));
  }

  async countOwed(progress: StoredProgress): Promise<number> {
    const topics = progress.topics === null ? '' : JSON.stringify([...new Set(progress.topics)]);
    const args = PRIORITIES.flatMap((p) => [p, progress.priorities[p].watermark, JSON.stringify(progress.priorities[p].ackedAbove)]);
    return Number(await COUNT_OWED.run(this.redis, [this.keys.prefix, topics, ...args]));
  }

  async touch(deviceId: string, at: Date): Promise<void> {
    await TOUCH.run(this.redis, [this.keys.prefix, deviceId, at.toISOString()]);
  }
}

/** A later write over an earlier one of the same device: its priorities replace theirs, the cursor only moves forward. */
function mergeWrite(earlier: ProgressWrite | undefined, later: ProgressWrite): ProgressWrite {
  if (!earlier) return later;
  const byPriority = new Map(earlier.priorities.map((p) => [p.priority, p]));
  for (const p of later.priorities) byPriority.set(p.priority, p);
  const cursors = [earlier.dismissCursor, later.dismissCursor].filter((c): c is number => c !== undefined);
  return { deviceId: later.deviceId, priorities: [...byPriority.values()], ...(cursors.length > 0 ? { dismissCursor: Math.max(...cursors) } : {}) };
}
