import type Redis from 'ioredis';
import type { WrappedKey } from '../crypto/field-cipher';
import { LuaScript } from './lua-script';
import type { RedisKeys } from './redis-keys';

// The data-key ring of a cluster (what store/data-key-store.ts is on SQLite): the wrapped keys
// (each sealed under the master key by crypto/field-cipher.ts newDataKey) in one Redis hash,
// shared by every node, so a value sealed on one node opens on every other. Two nodes starting
// on an empty cluster at once must not each make a "first" key: `insert` stores the first key
// only when the ring is empty, and the caller lists the ring again after it.

/** ARGV: hash key, id, JSON. Stores it only when the ring is empty; 1 when stored. */
const INSERT_FIRST = new LuaScript(`
if redis.call('HLEN', ARGV[1]) > 0 then return 0 end
redis.call('HSET', ARGV[1], ARGV[2], ARGV[3])
return 1
`);

/**
 * ARGV: hash key, id, wrapped key. Adds a key (a rotation's, an import's) dated by Redis' clock
 * and strictly after every key already in the ring, so the ring's order is the order keys were
 * added even within one millisecond; 0 when the id is taken.
 */
const ADD = new LuaScript(`
if redis.call('HEXISTS', ARGV[1], ARGV[2]) == 1 then return 0 end
local t = redis.call('TIME')
local created = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, json in ipairs(redis.call('HVALS', ARGV[1])) do
  local other = cjson.decode(json).createdMs
  if other >= created then created = other + 1 end
end
redis.call('HSET', ARGV[1], ARGV[2], cjson.encode({ wrapped = ARGV[3], createdMs = created }))
return 1
`);

interface StoredKey {
  wrapped: string;
  createdMs: number;
}

/** The data keys the field cipher loads, shared by the cluster. */
export class RedisDataKeys {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Every stored data key, oldest first (the newest is current unless a rotation says otherwise). */
  async list(): Promise<WrappedKey[]> {
    return (await this.dated()).map(({ id, wrapped }) => ({ id, wrapped }));
  }

  /**
   * The key nodes seal with: the newest one added at least `activationMs` ago by Redis' clock
   * (every node reloads the ring more often than that, so each can open what it seals before
   * anyone seals with it), else the oldest. Undefined when the ring is empty.
   */
  async currentId(activationMs: number): Promise<string | undefined> {
    const [ring, now] = await Promise.all([this.dated(), this.redisNow()]);
    const active = ring.filter((k) => k.createdMs + activationMs <= now);
    return (active[active.length - 1] ?? ring[0])?.id;
  }

  private async dated(): Promise<(WrappedKey & StoredKey)[]> {
    const all = await this.redis.hgetall(this.keys.dataKeys);
    return Object.entries(all)
      .map(([id, json]) => ({ id, ...(JSON.parse(json) as StoredKey) }))
      .sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : 1));
  }

  /** Stores the first data key (first start) unless another node stored one first: list() again after it. */
  async insert(key: WrappedKey): Promise<void> {
    await INSERT_FIRST.run(this.redis, [this.keys.dataKeys, key.id, await this.json(key)]);
  }

  /** Adds a rotation's new key (run under the `data-key-rotation` lease); false when the id exists. */
  async add(key: WrappedKey): Promise<boolean> {
    return (await ADD.run(this.redis, [this.keys.dataKeys, key.id, key.wrapped])) === 1;
  }

  /** Removes a retired key (after a rotation moved every value off it). */
  async remove(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.dataKeys, id)) === 1;
  }

  /** Dated by Redis' clock, so the ring's order never depends on a node clock. */
  private async json(key: WrappedKey): Promise<string> {
    const stored: StoredKey = { wrapped: key.wrapped, createdMs: await this.redisNow() };
    return JSON.stringify(stored);
  }

  private async redisNow(): Promise<number> {
    const [sec, micro] = await this.redis.time();
    return Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
  }
}
