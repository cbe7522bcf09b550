import type Redis from 'ioredis';
import type { DesktopIdStore } from '../sources/source';
import { LuaScript } from './lua-script';
import { committed } from './redis-commit';
import type { RedisKeys } from './redis-keys';

// The captured-notification ↔ desktop-id map on Redis (what store/desktop-id-store.ts is on
// SQLite), with the node whose desktop showed each notification stored next to it: a phone
// connected to node B dismisses what node A captured, and B reads here that A owns it, so the
// close can be routed to A's desktop (ownerOf). A desktop key means something only on its own
// PC (a Windows record id, a D-Bus id), so the key index is per node, and a node's sources are
// answered only about what that node captured. A mapping lives as long as its notification's id
// claim (the retention), as SQLite's row goes with its notification.

/** ARGV: prefix, node, source, key, notification id. Stores the mapping: 1, or 0 when the notification is unknown (gone). */
const REMEMBER = new LuaScript(`
local P, node, source, key, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local claim = P .. 'id:' .. id
local seq = redis.call('GET', claim)
if not seq then return 0 end
local owner = P .. 'desktop:' .. id
local old = redis.call('HMGET', owner, 'node', 'source', 'key')
redis.call('HSET', owner, 'node', node, 'source', source, 'key', key)
if old[1] and (old[1] ~= node or old[2] ~= source or old[3] ~= key) then
  redis.call('ZREM', P .. 'desktop-key:' .. old[1] .. ':' .. old[2] .. ':' .. old[3], id)
end
local index = P .. 'desktop-key:' .. node .. ':' .. source .. ':' .. key
redis.call('ZADD', index, seq, id)
local ttl = redis.call('PTTL', claim)
if ttl > 0 then
  redis.call('PEXPIRE', owner, ttl)
  if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
else
  redis.call('PERSIST', owner)
  redis.call('PERSIST', index)
end
return 1
`);

/** ARGV: prefix, node, source, key. The newest notification still stored that this node captured under the key, or false. */
const BY_KEY = new LuaScript(`
local P, node, source, key = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for _, id in ipairs(redis.call('ZREVRANGE', P .. 'desktop-key:' .. node .. ':' .. source .. ':' .. key, 0, -1)) do
  local m = redis.call('HMGET', P .. 'desktop:' .. id, 'node', 'source', 'key')
  if m[1] == node and m[2] == source and m[3] == key and redis.call('EXISTS', P .. 'id:' .. id) == 1 then return id end
end
return false
`);

/** Which node's desktop showed a captured notification, under which source and desktop key. */
export interface DesktopOwner {
  nodeId: string;
  source: string;
  key: string;
}

/** What a desktop source needs (sources/source.ts declares it), for one node of a cluster; plus who owns a notification. */
export class RedisDesktopIds implements DesktopIdStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** This node's id: the owner of what its sources capture. */
    private readonly nodeId: string,
  ) {}

  async rememberDesktopId(source: string, key: string, notificationId: string): Promise<void> {
    await committed(REMEMBER.run(this.redis, [this.keys.prefix, this.nodeId, source, key, notificationId]));
  }

  /** The newest notification this node captured under a desktop key. */
  async notificationForDesktopKey(source: string, key: string): Promise<string | undefined> {
    return ((await BY_KEY.run(this.redis, [this.keys.prefix, this.nodeId, source, key])) as string | null) ?? undefined;
  }

  /** The desktop key of a notification this node's `source` captured; undefined when another node's desktop showed it. */
  async desktopKeyOf(source: string, notificationId: string): Promise<string | undefined> {
    const owner = await this.ownerOf(notificationId);
    return owner && owner.nodeId === this.nodeId && owner.source === source ? owner.key : undefined;
  }

  /** The node whose desktop showed a notification (to route a phone's dismissal there); undefined when none did. */
  async ownerOf(notificationId: string): Promise<DesktopOwner | undefined> {
    const [nodeId, source, key] = await this.redis.hmget(this.keys.desktopOwner(notificationId), 'node', 'source', 'key');
    return nodeId !== null && source !== null && key !== null ? { nodeId, source, key } : undefined;
  }
}
