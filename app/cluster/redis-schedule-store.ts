import crypto from 'node:crypto';
import type Redis from 'ioredis';
import type { NotificationInput } from '../domain/notification';
import type { ScheduledEntry, ScheduleStore } from '../schedule/scheduler';
import { scheduledAad } from '../store/scheduled-store';
import type { FieldSealer } from '../store/rows';
import { RedisCommitError } from './redis-errors';
import type { RedisKeys } from './redis-keys';
import { ADD, CLAIM_DUE, DROP_ONE, REMOVE, REMOVE_BY_TOKEN } from './schedule-scripts';

// Scheduled notifications on Redis (what store/scheduled-store.ts is on SQLite), shared by every
// node: each sealed whole under the same associated data as a SQLite row. Every node runs its
// scheduler; `due` CLAIMS what it returns (schedule-scripts.ts), so one node hands a due entry
// on. Exactly once, as on SQLite, comes from the outbox: the entry keeps its id, and an append of
// an id already stored answers the stored one. A node killed between claim and append (or
// between append and remove) leaves a claim that expires after `claimMs`; another node then
// claims it again and appends it, which the outbox stores once.

/** The JSON of an entry in `sched:entries`. */
interface EntryJson {
  dueMs: number;
  createdMs: number;
  tokenId: number | null;
  sealed: string;
}

/** Implements the scheduler's port (schedule/scheduler.ts declares it) for a cluster. */
export class RedisScheduleStore implements ScheduleStore {
  /** This store's claims (one per process, so a restarted node never mistakes an old claim for its own). */
  private readonly token: string;
  /** Ids this store claimed and has not removed: a release that failed is taken again at the next pass. */
  private readonly mine = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
    /** This node's id (names its claims, for whoever looks at Redis). */
    nodeId: string,
    /** ms a claim lasts (config/defaults.ts SCHEDULE_CLAIM_MS). */
    private readonly claimMs: number,
  ) {
    this.token = `${nodeId}:${crypto.randomUUID()}`;
  }

  async add(entry: ScheduledEntry): Promise<void> {
    const sealed = this.sealer.seal(JSON.stringify(entry.input), scheduledAad(entry.id));
    const tokenId = entry.input.tokenId ?? null;
    const json: EntryJson = { dueMs: entry.dueMs, createdMs: entry.createdMs, tokenId, sealed };
    await this.write(ADD, [entry.id, entry.dueMs, tokenId ?? '', JSON.stringify(json)]);
  }

  /**
   * Claims up to `limit` due entries for this node, earliest first. One whose seal does not open
   * can never be sent: it is dropped and reported by throwing once, as on SQLite.
   */
  async due(nowMs: number, limit: number): Promise<ScheduledEntry[]> {
    const flat = (await this.write(CLAIM_DUE, [nowMs, limit, this.token, this.claimMs, ...this.mine])) as string[];
    // What was not taken again is not this node's any more (removed, or its claim ended and another node took it).
    this.mine.clear();
    const entries: ScheduledEntry[] = [];
    const unreadable: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      this.mine.add(flat[i]);
      const entry = this.tryOpen(flat[i], flat[i + 1]);
      if (entry) entries.push(entry);
      else unreadable.push(flat[i]);
    }
    if (unreadable.length > 0) {
      for (const id of unreadable) {
        await this.write(DROP_ONE, [id]);
        this.mine.delete(id);
      }
      throw new Error(`scheduled notifications that could not be opened were dropped: ${unreadable.join(', ')}`);
    }
    return entries.sort((a, b) => a.dueMs - b.dueMs || (a.id < b.id ? -1 : 1));
  }

  /** The earliest time a node should look (a due time, or the end of a claim not yet finished). */
  async nextDueMs(): Promise<number | null> {
    const [, score] = await this.redis.zrange(this.keys.scheduledDue, 0, 0, 'WITHSCORES');
    return score === undefined ? null : Number(score);
  }

  /** false when unknown, or claimed by another node right now (being sent: too late to cancel). */
  async remove(id: string): Promise<boolean> {
    const removed = (await this.write(REMOVE, [id, this.token])) === 1;
    this.mine.delete(id);
    return removed;
  }

  async removeByToken(tokenId: number): Promise<number> {
    return (await this.write(REMOVE_BY_TOKEN, [tokenId])) as number;
  }

  /** What waits, earliest due first (one that does not open is left out; its due time drops it). */
  async list(limit: number): Promise<ScheduledEntry[]> {
    if (limit <= 0) return [];
    const ids = await this.redis.zrange(this.keys.scheduledOrder, 0, limit - 1);
    if (ids.length === 0) return [];
    const jsons = await this.redis.hmget(this.keys.scheduledEntries, ...ids);
    return ids.flatMap((id, i) => (jsons[i] ? (this.tryOpen(id, jsons[i]!) ?? []) : []));
  }

  private async write(script: typeof ADD, args: (string | number)[]): Promise<unknown> {
    try {
      return await script.run(this.redis, [this.keys.prefix, ...args]);
    } catch (error) {
      throw new RedisCommitError(error);
    }
  }

  private tryOpen(id: string, json: string): ScheduledEntry | null {
    try {
      const e = JSON.parse(json) as EntryJson;
      const input = JSON.parse(this.sealer.open(e.sealed, scheduledAad(id))) as NotificationInput;
      return { id, dueMs: e.dueMs, createdMs: e.createdMs, input };
    } catch {
      return null;
    }
  }
}
