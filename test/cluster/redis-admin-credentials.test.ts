import type Redis from 'ioredis';
import { base32Encode } from '../../app/auth/totp';
import { RedisAdminCredentials } from '../../app/cluster/redis-admin-credentials';
import type { RedisConnection } from '../../app/cluster/redis-connection';
import type { RedisKeys } from '../../app/cluster/redis-keys';
import { RedisTotpSteps } from '../../app/cluster/redis-totp-steps';
import { RedisServer } from '../helpers/redis-server';
import { connectTo, realSealer } from './fixtures';

// The dashboard password and TOTP secret on Redis (store/admin-credential-store.ts on SQLite):
// none until set, set and replaced whole (a null secret removes the second factor), the TOTP
// secret sealed with SQLite's associated data; and the last used TOTP step for the cluster
// (auth/totp-steps.ts per node), case for case with test/unit/auth/totp-steps.test.ts. Plus:
// what one node sets another reads at once, one step claimed from two connections at once logs
// in once, and both survive a redis-server restart.

let server: RedisServer;
let conn: RedisConnection;
let other: Redis;
let keys: RedisKeys;
let redis: Redis;
const sealer = realSealer();
const b32 = base32Encode(Buffer.from('12345678901234567890'));

beforeAll(async () => {
  server = await RedisServer.start({ config: { appendfsync: 'always' } });
  ({ conn, keys } = await connectTo(server));
  redis = conn.redis;
  other = await conn.duplicate();
});
afterAll(async () => {
  await conn.close();
  await server.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

test('none until set; set on one node, read on another; the TOTP secret sealed; a null secret removes it', async () => {
  const a = new RedisAdminCredentials(redis, keys, sealer);
  const b = new RedisAdminCredentials(other, keys, sealer);
  expect(await b.adminCredentials()).toBeUndefined();
  await a.setAdminCredentials('$2b$12$hash', b32);
  expect(await b.adminCredentials()).toEqual({ passwordHash: '$2b$12$hash', totpSecret: b32 });
  const stored = await redis.hgetall(keys.adminCredentials);
  expect(JSON.stringify(stored)).not.toContain(b32);
  // Sealed for this field: the same seal under another associated data does not open.
  expect(() => sealer.open(stored.totpSecret, 'devices.name.1')).toThrow();
  await b.setAdminCredentials('$2b$12$other', null);
  expect(await a.adminCredentials()).toEqual({ passwordHash: '$2b$12$other', totpSecret: null });
});

test('a TOTP step is claimed once, an older one never after it; a new secret starts afresh; only a fingerprint is stored', async () => {
  const steps = new RedisTotpSteps(redis, keys);
  expect(await steps.claim(b32, 100)).toBe(true);
  expect(await steps.claim(b32, 100)).toBe(false);
  expect(await steps.claim(b32, 99)).toBe(false);
  expect(await steps.claim(b32, 101)).toBe(true);
  expect(await redis.get(keys.totpStep)).not.toContain(b32);
  const otherNode = new RedisTotpSteps(other, keys);
  expect(await otherNode.claim(b32, 101)).toBe(false); // used on the first node
  expect(await otherNode.claim('JBSWY3DPEHPK3PXP', 5)).toBe(true);
});

test('one step claimed from two connections at once logs in once', async () => {
  const a = new RedisTotpSteps(redis, keys);
  const b = new RedisTotpSteps(other, keys);
  for (let step = 1; step <= 30; step++) {
    const wins = await Promise.all([a.claim(b32, step), b.claim(b32, step)]);
    expect(wins.filter(Boolean)).toHaveLength(1);
  }
});

test('credentials and the last step survive a redis-server restart (appendonly, fsync always)', async () => {
  const creds = new RedisAdminCredentials(redis, keys, sealer);
  const steps = new RedisTotpSteps(redis, keys);
  await creds.setAdminCredentials('$2b$12$kept', b32);
  await steps.claim(b32, 500);
  await server.kill9();
  await server.restart();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await redis.ping().catch(() => null)) !== 'PONG') await new Promise((r) => setTimeout(r, 100));
  expect(await creds.adminCredentials()).toEqual({ passwordHash: '$2b$12$kept', totpSecret: b32 });
  expect(await steps.claim(b32, 500)).toBe(false);
});
