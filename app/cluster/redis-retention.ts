import type Redis from 'ioredis';
import type { RedisKeys } from './redis-keys';
import { TRIM_DISMISSALS, TRIM_OUTBOX } from './retention-scripts';
import { entryJsonOf } from './stream-entry';

// Retention on Redis (what Store.prune is on SQLite): the outbox stream and its indexes lose the
// notifications created before the cut-off, and the dismissals stream the dismissals made before
// it, oldest first, a bounded batch per script (retention-scripts.ts). Never a seq some device
// still owes: the sweep stops below the lowest seq any live device may still be owed, read from
// the delivery store's progress keys (per priority, the first owed seq above its watermark), and
// below the lowest dismissal cursor. A device that never comes back holds retention back; the
// sweep says so (`heldBackBy`), so an operator can revoke it.

const PRIORITIES = [1, 2, 3, 4, 5];
/** Keys asked per SCAN step while listing devices. */
const SCAN_COUNT = 200;

/** What one sweep did. */
export interface RetentionSweep {
  notifications: number;
  dismissals: number;
  /** The lowest seq a device may still be owed (the outbox is kept from it), or null when none is owed. */
  owedFloor: number | null;
  /** true when an entry past the cut-off was kept because a device still owes it. */
  heldBackBy: boolean;
}

/** The floors retention must not cross. */
interface Floors {
  /** Lowest owed notification seq (Infinity: none). */
  owed: number;
  /** Lowest dismissal cursor of a live device (Infinity: no device). */
  cursor: number;
}

/** The sweep; `prune` has the shape composition/relay.ts startPruning calls. */
export class RedisRetention {
  /** The last sweep's details (for the log and /health). */
  last: RetentionSweep | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** Entries per script (config/defaults.ts REDIS_TRIM_BATCH). */
    private readonly batch: number,
  ) {}

  /** Drops what retention no longer keeps; how many notifications went. */
  async prune(cutoffMs: number): Promise<number> {
    const floors = await this.floors();
    let notifications = 0;
    let heldBackBy = false;
    for (;;) {
      const entries = await this.redis.xrange(this.keys.outbox, '-', '+', 'COUNT', this.batch);
      const args: (string | number)[] = [];
      let end = 0;
      let stop = entries.length < this.batch;
      for (const [streamId, fields] of entries) {
        const seq = Number.parseInt(streamId, 10);
        const e = JSON.parse(entryJsonOf(fields)) as { id: string; priority: number; topic: string | null; createdAt: string };
        if (Date.parse(e.createdAt) >= cutoffMs) {
          stop = true;
          break;
        }
        if (seq >= floors.owed) {
          heldBackBy = true;
          stop = true;
          break;
        }
        args.push(seq, e.priority, e.topic ?? '', e.id);
        end = seq;
      }
      if (end > 0) notifications += Number(await TRIM_OUTBOX.run(this.redis, [this.keys.prefix, end + 1, ...args]));
      if (stop || end === 0) break;
    }
    const dismissals = await this.pruneDismissals(cutoffMs, floors.cursor);
    this.last = { notifications, dismissals, owedFloor: Number.isFinite(floors.owed) ? floors.owed : null, heldBackBy };
    return notifications;
  }

  private async pruneDismissals(cutoffMs: number, cursorFloor: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const entries = await this.redis.xrange(this.keys.dismissals, '-', '+', 'COUNT', this.batch);
      let end = 0;
      // Fields are [id, <notification id>, by, <device>, at, <ms>] (outbox-scripts.ts DISMISS).
      for (const [streamId, fields] of entries) {
        const seq = Number.parseInt(streamId, 10);
        if (Number(fields[5]) >= cutoffMs || seq > cursorFloor) break;
        end = seq;
      }
      if (end > 0) removed += Number(await TRIM_DISMISSALS.run(this.redis, [this.keys.prefix, end + 1]));
      if (end === 0 || entries.length < this.batch || end !== Number.parseInt(entries[entries.length - 1][0], 10)) return removed;
    }
  }

  /**
   * Per live (paired, not revoked) device and priority, the first owed seq above its watermark
   * (acked-above seqs and topic filters ignored: a floor only ever too low, never too high), and
   * its dismissal cursor. Progress only moves forward and a device pairs at the newest seq, so a
   * floor read now stays safe while the sweep runs.
   */
  private async floors(): Promise<Floors> {
    const floors: Floors = { owed: Number.POSITIVE_INFINITY, cursor: Number.POSITIVE_INFINITY };
    const prefix = this.keys.device('');
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const key of found) await this.deviceFloor(key.slice(prefix.length), floors);
    } while (cursor !== '0');
    return floors;
  }

  private async deviceFloor(deviceId: string, floors: Floors): Promise<void> {
    let device: (string | null)[];
    try {
      device = await this.redis.hmget(this.keys.device(deviceId), 'pairedSeq', 'revokedAt');
    } catch {
      return; // another kind of key under device:* (not a device hash)
    }
    const [pairedSeq, revokedAt] = device;
    if (pairedSeq === null || revokedAt !== null) return;
    const progress = await this.redis.hgetall(this.keys.progress(deviceId));
    floors.cursor = Math.min(floors.cursor, Number(progress.dc ?? 0));
    const pipeline = this.redis.pipeline();
    for (const p of PRIORITIES) pipeline.zrangebyscore(this.keys.owed(p), `(${progress[`w${p}`] ?? pairedSeq}`, '+inf', 'LIMIT', 0, 1);
    for (const [error, first] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      const [seq] = first as string[];
      if (seq !== undefined) floors.owed = Math.min(floors.owed, Number(seq));
    }
  }
}
