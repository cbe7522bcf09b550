import net from 'node:net';
import Redis, { type RedisOptions } from 'ioredis';
import { checkRedisServer, type Warn } from './redis-checks';
import { RedisRefusedError } from './redis-errors';

// Opening Redis for cluster mode. A command never hangs while Redis is down: the offline queue
// is off (a command sent while disconnected fails at once), a command has a timeout, and a
// reconnect retries a command at most once. ioredis keeps reconnecting by itself, so a node
// recovers when Redis comes back. Beep builds its own key names from `prefix` (Lua scripts make
// keys from it too), so ioredis' keyPrefix is not used.

/** How to reach Redis and what to require of it (config: cluster.redisUrl, store.durability). */
export interface RedisConnectionOptions {
  url: string;
  /** Every key starts with it (config/defaults.ts REDIS_KEY_PREFIX). */
  prefix: string;
  durability: 'normal' | 'full';
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  maxRetriesPerRequest: number;
  /** PEM of the CA that signed a `rediss://` server's certificate, when it is not a public one. */
  tlsCa?: string;
}

/** Whether a URL host is this machine (traffic that never leaves it needs no password). */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/** What the URL says, checked before any connection: redis:// or rediss://, and a password unless Redis is on loopback. */
export function parseRedisUrl(url: string): { tls: boolean; loopback: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisRefusedError('the Redis URL is not a URL (redis://[user:password@]host:port or rediss://...)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new RedisRefusedError(`the Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  const loopback = isLoopback(parsed.hostname);
  // Anyone on the network could read and write every notification and token: require ACL credentials.
  if (!loopback && parsed.password === '') throw new RedisRefusedError(`${parsed.hostname} is not a loopback address and the URL has no password; give Redis a password (requirepass or an ACL user) and put it in the URL`);
  return { tls: parsed.protocol === 'rediss:', loopback };
}

/** ioredis options for Beep: bounded, never queued while offline. */
export function redisOptions(options: RedisConnectionOptions): RedisOptions {
  const { tls } = parseRedisUrl(options.url);
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    ...(tls && options.tlsCa ? { tls: { ca: options.tlsCa } } : {}),
  };
}

/** One open, checked connection and the prefix every key is built from. */
export interface RedisConnection {
  readonly redis: Redis;
  readonly prefix: string;
  /** Another connection with the same settings (a blocking reader needs its own); `commandTimeoutMs` overrides the timeout. */
  duplicate(commandTimeoutMs?: number): Promise<Redis>;
  close(): Promise<void>;
}

/** Connects once (a clear error when Redis cannot be reached within the connect timeout). */
async function connect(url: string, options: RedisOptions, timeoutMs: number, onError: (error: Error) => void): Promise<Redis> {
  const redis = new Redis(url, { ...options, retryStrategy: () => null });
  // Connection errors (Redis gone, reconnect refused) are also each command's rejection; this is for the log.
  redis.on('error', onError);
  // The cause (a refused certificate, ECONNREFUSED) comes as an event; connect() only says "closed".
  let cause: Error | undefined;
  const remember = (error: Error) => (cause = error);
  redis.on('error', remember);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (error) {
    redis.disconnect();
    throw new RedisRefusedError(`cannot connect: ${(cause ?? (error as Error)).message}`);
  } finally {
    clearTimeout(timer);
    redis.off('error', remember);
  }
  // Connected once: from now on reconnect by itself (ioredis' default back-off, capped at 2 s).
  redis.options.retryStrategy = (times: number) => Math.min(times * 100, 2_000);
  return redis;
}

/**
 * Opens Redis and checks it is fit (checkRedisServer); `warn` hears what is allowed but weaker,
 * `onError` every connection error (for the log; commands reject on their own).
 *
 *   const conn = await openRedis({ url, prefix: 'beep:', durability: 'normal', ... }, log.warn);
 */
export async function openRedis(options: RedisConnectionOptions, warn: Warn, onError: (error: Error) => void = () => undefined): Promise<RedisConnection> {
  const base = redisOptions(options);
  const redis = await connect(options.url, base, options.connectTimeoutMs, onError);
  try {
    await checkRedisServer(redis, options.durability, warn);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const extra: Redis[] = [];
  return {
    redis,
    prefix: options.prefix,
    async duplicate(commandTimeoutMs?: number) {
      const other = await connect(options.url, { ...base, ...(commandTimeoutMs !== undefined ? { commandTimeout: commandTimeoutMs } : {}) }, options.connectTimeoutMs, onError);
      extra.push(other);
      return other;
    },
    async close() {
      for (const r of [...extra, redis]) await r.quit().catch(() => r.disconnect());
    },
  };
}
