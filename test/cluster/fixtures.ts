import crypto from 'node:crypto';
import { openRedis, type RedisConnection } from '../../app/cluster/redis-connection';
import { RedisKeys } from '../../app/cluster/redis-keys';
import { FieldCipher, newDataKey } from '../../app/crypto/field-cipher';
import type { NotificationInput } from '../../app/domain/notification';
import type { RedisServer } from '../helpers/redis-server';

// What the cluster tests share: a real data-key ring (seals are real AES-GCM), a notification
// input, and an open, checked connection to the test's own redis-server.

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
