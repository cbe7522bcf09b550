import type Redis from 'ioredis';
import type { StoredNotification } from '../domain/notification';
import type { FieldSealer } from '../store/rows';
import { LuaScript } from './lua-script';
import type { RedisKeys } from './redis-keys';
import { decodeEntry, entryJsonOf } from './stream-entry';

// The two notification reads device accounts need, on the outbox stream: one notification by its
// public id (an http action button), and the recent history a newly paired phone asked for
// (store/notification-repository.ts recentUpTo and findById on SQLite).

/** seq candidates read per round trip while collecting a pairing's history. */
const HISTORY_BATCH = 200;
/**
 * ms of clock difference between nodes tolerated when the history scan stops: entries are in seq
 * order, and createdAt comes from the node that accepted each one, so the scan goes on this far
 * past the first entry older than the window before it stops.
 */
const NODE_CLOCK_SKEW_MS = 5 * 60_000;

/** ARGV: prefix, id. {seq, entry JSON, dismissedAt or false}, or false when the id is unknown (or past retention). */
const BY_ID = new LuaScript(`
local P = ARGV[1]
local seq = redis.call('GET', P .. 'id:' .. ARGV[2])
if not seq then return false end
local e = redis.call('XRANGE', P .. 'outbox', seq .. '-0', seq .. '-0')[1]
if not e then return false end
return {tonumber(seq), e[2][6], redis.call('HGET', P .. 'dismissed', seq) or false}
`);

/** The fields of an entry's JSON that are in clear. */
interface ClearFields {
  topic: string | null;
  createdAt: string;
}

/** A notification by its public id; undefined when unknown or gone. */
export async function notificationById(redis: Redis, keys: RedisKeys, sealer: FieldSealer, id: string): Promise<StoredNotification | undefined> {
  const reply = (await BY_ID.run(redis, [keys.prefix, id])) as [number, string, string | null] | null;
  if (!reply) return undefined;
  const [seq, json, dismissedAt] = reply;
  return decodeEntry(sealer, seq, json, dismissedAt || null);
}

/**
 * The newest `limit` cached, undismissed notifications at or below `pairedSeq`, created at or
 * after `fromMs`, untopiced or of `topics` (null = every topic); oldest first.
 */
export async function recentUpTo(redis: Redis, keys: RedisKeys, sealer: FieldSealer, pairedSeq: number, fromMs: number, topics: string[] | null, limit: number): Promise<StoredNotification[]> {
  const wanted = topics === null ? null : new Set(topics);
  const found: StoredNotification[] = [];
  let upper = String(pairedSeq);
  while (found.length < limit) {
    const seqs = await redis.zrevrangebyscore(keys.history, upper, '-inf', 'LIMIT', 0, HISTORY_BATCH);
    if (seqs.length === 0) break;
    const pipe = redis.pipeline();
    for (const s of seqs) pipe.xrange(keys.outbox, `${s}-0`, `${s}-0`).hexists(keys.dismissed, s);
    const replies = (await pipe.exec()) ?? [];
    let older = false;
    for (let i = 0; i < seqs.length && found.length < limit; i++) {
      const [entryError, entries] = replies[2 * i] as [Error | null, [string, string[]][]];
      const [dismissedError, dismissed] = replies[2 * i + 1] as [Error | null, number];
      if (entryError) throw entryError;
      if (dismissedError) throw dismissedError;
      if (entries.length === 0 || dismissed === 1) continue;
      const json = entryJsonOf(entries[0][1]);
      const clear = JSON.parse(json) as ClearFields;
      const createdMs = Date.parse(clear.createdAt);
      if (createdMs < fromMs - NODE_CLOCK_SKEW_MS) older = true;
      if (createdMs < fromMs) continue;
      if (clear.topic !== null && wanted !== null && !wanted.has(clear.topic)) continue;
      found.push(decodeEntry(sealer, Number(seqs[i]), json));
    }
    if (older || seqs.length < HISTORY_BATCH) break;
    upper = `(${seqs[seqs.length - 1]}`;
  }
  return found.reverse();
}
