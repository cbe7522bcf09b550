import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { openRedis, type RedisConnection } from '../../app/cluster/redis-connection';
import { RedisKeys } from '../../app/cluster/redis-keys';
import { FieldCipher, newDataKey } from '../../app/crypto/field-cipher';
import type { NotificationInput } from '../../app/domain/notification';
import { RedisServer, type RedisServerOptions } from '../helpers/redis-server';

// What the cluster tests share: a real data-key ring (seals are real AES-GCM), a notification
// input, an open, checked connection to the test's own redis-server, and useRedis: a test
// file's own redis-server with its connections, flushed between tests.

/** A field cipher with one fresh data key under a random master key. */
export function realSealer(): FieldCipher {
  const cipher = new FieldCipher();
  const master = crypto.randomBytes(32);
  cipher.load(master, [newDataKey(master)]);
  return cipher;
}

/** A valid notification input; `over` replaces any field. */
export function input(over: Partial<NotificationInput> = {}): NotificationInput {
  return { title: 'Disk full', body: 'sda1 at 99%', app: 'monitor', priority: 3, tags: ['disk'], url: null, topic: null, source: 'http', ...over };
}

/** An open connection to `server` (checks passed) and the default key layout. */
export async function connectTo(server: RedisServer): Promise<{ conn: RedisConnection; keys: RedisKeys }> {
  const conn = await openRedis({ url: server.url, prefix: 'beep:', durability: 'normal', commandTimeoutMs: 2_000, connectTimeoutMs: 5_000, maxRetriesPerRequest: 1 }, () => undefined);
  return { conn, keys: new RedisKeys('beep:') };
}

/** A paired device as the Redis layout holds it (redis-keys.ts `device`): its pairing seq and topic filter. */
export async function addDevice(redis: import('ioredis').default, keys: RedisKeys, id: string, pairedSeq: number, topics: string[] | null = null): Promise<void> {
  await redis.hset(keys.device(id), { pairedSeq: String(pairedSeq), ...(topics ? { topics: JSON.stringify(topics) } : {}) });
}

/** A test file's redis-server and its clients (useRedis); each field is set once the file's beforeAll has run. */
export interface RedisFixture {
  server: RedisServer;
  /** An open, checked connection (connectTo); closed after the file, with every duplicate. */
  conn: RedisConnection;
  keys: RedisKeys;
  /** conn.redis: this node's client. */
  redis: Redis;
  /** A second client on the same server: another node's. */
  other: Redis;
}

/**
 * One redis-server for the test file that calls it (at its top level): started before its tests
 * (`config` as RedisServer.start takes it), connected with a second client for another node,
 * flushed before each test unless `flush` is false, closed and stopped after the file.
 *
 *   const fixture = useRedis({ config: { appendfsync: 'always' } });
 *   test('…', async () => { await new RedisOutbox(fixture.redis, fixture.keys, …).append(…); });
 */
export function useRedis(options: { config?: RedisServerOptions['config']; flush?: boolean } = {}): RedisFixture {
  const fixture = {} as RedisFixture;
  beforeAll(async () => {
    fixture.server = await RedisServer.start(options.config ? { config: options.config } : {});
    const { conn, keys } = await connectTo(fixture.server);
    Object.assign(fixture, { conn, keys, redis: conn.redis, other: await conn.duplicate() });
  });
  afterAll(async () => {
    await fixture.conn?.close();
    await fixture.server?.stop();
  });
  if (options.flush !== false) {
    beforeEach(async () => {
      await fixture.redis.flushall();
    });
  }
  return fixture;
}
