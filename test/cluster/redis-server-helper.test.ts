import fs from 'node:fs';
import Redis from 'ioredis';
import { RedisServer } from '../helpers/redis-server';

// The test helper itself: its own server on a free port with the AOF on and noeviction, a
// password when asked, kill -9 and restart on the same directory keeping what the AOF holds,
// and stop() leaving nothing behind.

async function client(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

test('defaults: AOF everysec, noeviction; kill -9 and restart keep a synced write; stop removes the directory', async () => {
  const server = await RedisServer.start({ config: { appendfsync: 'always' } });
  let redis = await client(server.url);
  try {
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    await redis.set('kept', 'yes');
    redis.disconnect();
    await server.kill9();
    await server.restart();
    redis = await client(server.url);
    expect(await redis.get('kept')).toBe('yes');
  } finally {
    redis.disconnect();
    await server.stop();
  }
  expect(fs.existsSync(server.dir)).toBe(false);
});

test('a password is required when set', async () => {
  const server = await RedisServer.start({ password: 's3cret-pass' });
  try {
    const anonymous = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
    await anonymous.connect();
    await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();
    const redis = await client(server.url);
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    redis.disconnect();
  } finally {
    await server.stop();
  }
});
