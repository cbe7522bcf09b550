import type Redis from 'ioredis';
import { RedisRefusedError } from './redis-errors';

// What Beep requires of the Redis it shares state through, checked at start (and the
// durability part again at run time): anything weaker would lose accepted notifications,
// leases or progress without saying so. Where an ACL denies CONFIG GET, what cannot be read
// is warned about and start goes on: the operator chose to hide it.

/** The oldest Redis Beep runs on: 6.2 brings XADD's MINID trimming, GETDEL and ZRANGE's unified form. A requirement, not a setting. */
export const REDIS_MIN_VERSION = '6.2.0';

/** Told of a setting that is allowed but weaker than it could be. */
export type Warn = (message: string) => void;

/** `INFO <section>` as field → value. */
async function info(redis: Redis, section: string): Promise<Map<string, string>> {
  const text = await redis.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** a >= b for dotted versions ('7.0.15' >= '6.2.0'). */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  }
  return true;
}

/** CONFIG GET one setting; undefined when an ACL denies it (NOPERM) or the server hides it. */
async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', name)) as string[];
    return reply[1];
  } catch (error) {
    if (/NOPERM|unknown command|no permissions/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

/**
 * The persistence `store.durability` needs: "full" requires `appendfsync always` (refused
 * otherwise); "normal" warns when the AOF is off (a Redis restart would lose everything since
 * its last snapshot). Run at start and again at run time (someone may CONFIG SET it).
 */
export async function checkDurability(redis: Redis, durability: 'normal' | 'full', warn: Warn): Promise<void> {
  const appendonly = await configGet(redis, 'appendonly');
  const appendfsync = await configGet(redis, 'appendfsync');
  if (appendonly === undefined || appendfsync === undefined) {
    warn(`cannot read Redis' appendonly/appendfsync (CONFIG GET denied by an ACL): durability "${durability}" is not verified`);
    return;
  }
  if (durability === 'full' && (appendonly !== 'yes' || appendfsync !== 'always')) {
    throw new RedisRefusedError(`store.durability "full" requires Redis "appendonly yes" and "appendfsync always" (it has appendonly ${appendonly}, appendfsync ${appendfsync})`);
  }
  if (appendonly !== 'yes') warn('Redis runs with "appendonly no": a Redis restart loses every notification accepted since its last snapshot; set "appendonly yes" (and "appendfsync everysec")');
}

/**
 * Refuses a Redis Beep cannot rely on: older than 6.2, Redis Cluster, or an eviction policy
 * other than `noeviction` (an evicting Redis silently drops leases, progress or outbox entries).
 */
export async function checkRedisServer(redis: Redis, durability: 'normal' | 'full', warn: Warn): Promise<void> {
  const server = await info(redis, 'server');
  const version = server.get('redis_version') ?? '0';
  if (!versionAtLeast(version, REDIS_MIN_VERSION)) throw new RedisRefusedError(`Redis ${version} is too old; Beep needs Redis ${REDIS_MIN_VERSION} or later`);
  const cluster = await info(redis, 'cluster');
  if (cluster.get('cluster_enabled') === '1') throw new RedisRefusedError('Redis Cluster is not supported; point Beep at one Redis server (a replica set with failover is fine)');
  // INFO memory names the policy without CONFIG rights; CONFIG GET only when it does not.
  const policy = (await info(redis, 'memory')).get('maxmemory_policy') ?? (await configGet(redis, 'maxmemory-policy'));
  if (policy === undefined) warn('cannot read Redis\' maxmemory-policy: make sure it is "noeviction"');
  else if (policy !== 'noeviction') throw new RedisRefusedError(`Redis' maxmemory-policy is "${policy}": it must be "noeviction", since any other policy silently drops leases, progress or accepted notifications`);
  await checkDurability(redis, durability, warn);
}
