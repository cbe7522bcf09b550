import crypto from 'node:crypto';
import { RedisApiTokens } from '../../app/cluster/redis-api-tokens';
import { RedisDashboardSessions } from '../../app/cluster/redis-dashboard-sessions';
import { RedisDeviceAccounts } from '../../app/cluster/redis-device-accounts';
import { RedisDeviceAdmin } from '../../app/cluster/redis-device-admin';
import type { NewDevice } from '../../app/domain/device';
import { RedisServer } from '../helpers/redis-server';
import { connectTo, realSealer } from './fixtures';

// When Redis cannot take a write, the account ports say so as the SQLite store does (a
// CommitError: the caller answers 503, never success) and nothing half-done remains: out of
// memory under noeviction a pairing does not burn its code, a rotation does not spend its
// token, a revocation does not half-happen, a token insert spends no id. With Redis gone a device
// lookup rejects (so a token check can answer "try again", never "revoked") instead of answering
// "no such device".

const sealer = realSealer();
const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const DAY = 86_400_000;

function newDevice(refresh: string): NewDevice {
  return { id: crypto.randomUUID(), name: 'phone', platform: 'android', refreshHash: hash(refresh), family: crypto.randomUUID(), refreshExpiresMs: Date.now() + DAY, topics: null, historyHours: null };
}

test('out of memory (noeviction): CommitError and nothing written; the same calls succeed once memory is back', async () => {
  const server = await RedisServer.start();
  const { conn, keys } = await connectTo(server);
  try {
    const redis = conn.redis;
    const accounts = new RedisDeviceAccounts(redis, keys, sealer, 5);
    const admin = new RedisDeviceAdmin(redis, keys, sealer);
    const tokens = new RedisApiTokens(redis, keys);
    const sessions = new RedisDashboardSessions(redis, keys, { loginTtlSec: 60, sessionIdleSec: 100 });
    await accounts.createPairingCode(hash('code-1'), Date.now() + 60_000, false);
    await accounts.createPairingCode(hash('code-2'), Date.now() + 60_000, false);
    const device = (await accounts.pairDevice(hash('code-1'), newDevice('r1')))!;
    await tokens.insertApiToken('t1', 'publish', 'p', null, { origin: 'admin', parentId: null });

    const memory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    await redis.config('SET', 'maxmemory', String(Math.max(1, memory - 100_000)));
    const refused = { name: 'CommitError', message: expect.stringMatching(/OOM/) };
    await expect(accounts.pairDevice(hash('code-2'), newDevice('r2'))).rejects.toMatchObject(refused);
    await expect(accounts.rotateRefreshToken(hash('r1'), hash('r1b'), Date.now() + DAY)).rejects.toMatchObject(refused);
    await expect(admin.revokeDevice(device.id)).rejects.toMatchObject(refused);
    await expect(tokens.insertApiToken('t2', 'publish', 'q', null, { origin: 'admin', parentId: null })).rejects.toMatchObject(refused);
    await expect(sessions.open()).rejects.toMatchObject(refused);
    await expect(accounts.createPairingCode(hash('code-3'), Date.now() + 60_000, false)).rejects.toMatchObject(refused);
    // Reads still answer.
    expect(await accounts.device(device.id)).toMatchObject({ revokedAt: null, tokenGen: 1 });
    expect(await redis.zcard(keys.devices)).toBe(1);
    expect(await redis.hget(keys.refreshToken(hash('r1')), 'u')).toBeNull();

    await redis.config('SET', 'maxmemory', '0');
    expect(await accounts.pairDevice(hash('code-2'), newDevice('r2'))).not.toBeNull();
    expect(await accounts.rotateRefreshToken(hash('r1'), hash('r1b'), Date.now() + DAY)).toEqual({ kind: 'rotated', deviceId: device.id });
    expect((await tokens.insertApiToken('t2', 'publish', 'q', null, { origin: 'admin', parentId: null }))!.id).toBe(2);
    expect(await admin.revokeDevice(device.id)).toBe(true);
  } finally {
    await conn.close();
    await server.stop();
  }
});

test('Redis down: writes fail with CommitError and a device lookup rejects, at once, instead of waiting or answering "unknown"', async () => {
  const server = await RedisServer.start();
  const { conn, keys } = await connectTo(server);
  try {
    const accounts = new RedisDeviceAccounts(conn.redis, keys, sealer, 5);
    await accounts.createPairingCode(hash('c'), Date.now() + 60_000, false);
    const device = (await accounts.pairDevice(hash('c'), newDevice('r')))!;
    await server.kill9();
    await expect(accounts.createPairingCode(hash('d'), Date.now() + 60_000, false)).rejects.toMatchObject({ name: 'CommitError' });
    await expect(accounts.rotateRefreshToken(hash('r'), hash('s'), Date.now() + DAY)).rejects.toMatchObject({ name: 'CommitError' });
    await expect(accounts.device(device.id)).rejects.toThrow();
  } finally {
    await conn.close();
    await server.stop();
  }
});
