import crypto from 'node:crypto';
import type Redis from 'ioredis';
import type { KeyRing } from '../../app/auth/signing-keys';
import { TokenService } from '../../app/auth/token-service';
import { RedisDeliveryStore } from '../../app/cluster/redis-delivery-store';
import { RedisDeviceAccounts } from '../../app/cluster/redis-device-accounts';
import { RedisDeviceAdmin } from '../../app/cluster/redis-device-admin';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { DeviceLeases } from '../../app/cluster/device-leases';
import type { NewDevice } from '../../app/domain/device';
import { input, realSealer, useRedis } from './fixtures';

// Device accounts and the device directory on Redis, with the semantics of
// store/device-accounts.ts and store/device-admin.ts (pairing codes used once and expiring,
// enrolment at the current seq with the dismissal cursor at the last dismissal, the history a
// code offers handed over once, refresh rotation with reuse revoking the family and bumping the
// token generation, http action lookups by topic filter, list/rename/topics/revoke, names sealed
// at rest); plus what Redis adds: a code claimed from two connections at once pairs once, a
// refresh token replayed from two connections at once revokes its family, a revocation made on
// one connection fails the next token check on another, and everything survives a restart.

const fixture = useRedis({ config: { appendfsync: 'always' } });
const sealer = realSealer();
const noop = () => undefined;
const DAY = 86_400_000;

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

function newDevice(over: Partial<NewDevice> = {}): NewDevice {
  return { id: crypto.randomUUID(), name: 'Pixel of Ana', platform: 'android', refreshHash: hash(crypto.randomUUID()), family: crypto.randomUUID(), refreshExpiresMs: Date.now() + 30 * DAY, topics: null, historyHours: null, ...over };
}

function parts(r: Redis = fixture.redis) {
  return { accounts: new RedisDeviceAccounts(r, fixture.keys, sealer, 5), admin: new RedisDeviceAdmin(r, fixture.keys, sealer), outbox: new RedisOutbox(r, fixture.keys, sealer, 3_600) };
}

/** A device paired with a fresh code; its first refresh token's secret. */
async function paired(accounts: RedisDeviceAccounts, over: Partial<NewDevice> = {}, offersHistory = false) {
  const code = crypto.randomUUID();
  await accounts.createPairingCode(hash(code), Date.now() + 60_000, offersHistory);
  const refresh = crypto.randomUUID();
  const device = await accounts.pairDevice(hash(code), newDevice({ refreshHash: hash(refresh), ...over }));
  return { device: device!, refresh };
}

/** An in-memory ES256 key ring (the token service's port). */
function keyRing(): KeyRing {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = { kid: 'k1', privateKey, publicKey, createdMs: Date.now() };
  return { current: () => key, byKid: (kid) => (kid === 'k1' ? key : undefined) };
}

describe('pairing', () => {
  test('a code pairs once; an unknown code never; the device starts at the current seq and the last dismissal', async () => {
    const { accounts, outbox } = parts();
    for (let i = 1; i <= 3; i++) await outbox.append(input(), `n${i}`, noop);
    await outbox.dismiss('n1', null);
    await accounts.createPairingCode(hash('12345678'), Date.now() + 60_000, false);
    const first = await accounts.pairDevice(hash('12345678'), newDevice({ id: 'd1', topics: ['alerts'] }));
    expect(first).toMatchObject({ id: 'd1', name: 'Pixel of Ana', platform: 'android', pairedSeq: 3, tokenGen: 1, revokedAt: null, lastSeenAt: null, topics: ['alerts'], historyOffered: false });
    expect(await accounts.pairDevice(hash('12345678'), newDevice())).toBeNull();
    expect(await accounts.pairDevice(hash('00000000'), newDevice())).toBeNull();
    expect(await accounts.device('d1')).toEqual({ id: 'd1', name: 'Pixel of Ana', platform: 'android', pairedAt: first!.pairedAt, lastSeenAt: null, revokedAt: null, pairedSeq: 3, tokenGen: 1, topics: ['alerts'] });
    // Delivery reads the same hash: every priority starts at the pairing seq, dismissals after the one made before.
    const delivery = new RedisDeliveryStore(fixture.redis, fixture.keys, sealer, new DeviceLeases(fixture.redis, fixture.keys, 'node-a', 60_000));
    const progress = (await delivery.progress('d1'))!;
    expect(progress.priorities[3]).toEqual({ watermark: 3, ackedAbove: [] });
    expect(progress.dismissCursor).toBe(1);
    expect(await accounts.device('nobody')).toBeUndefined();
  });

  test('a code expires by its Redis TTL', async () => {
    const { accounts } = parts();
    await accounts.createPairingCode(hash('11111111'), Date.now() + 200, false);
    expect(await fixture.redis.pttl(fixture.keys.pairingCode(hash('11111111')))).toBeGreaterThan(0);
    while ((await fixture.redis.exists(fixture.keys.pairingCode(hash('11111111')))) === 1) await new Promise((r) => setTimeout(r, 20));
    expect(await accounts.pairDevice(hash('11111111'), newDevice())).toBeNull();
  });

  test('the name is sealed at rest, bound to its device', async () => {
    const { accounts, admin } = parts();
    const { device } = await paired(accounts, { name: 'Secret phone name' });
    const stored = await fixture.redis.hget(fixture.keys.device(device.id), 'name');
    expect(stored).not.toContain('Secret');
    const dump = JSON.stringify(await fixture.redis.hgetall(fixture.keys.device(device.id)));
    expect(dump).not.toContain('Secret phone name');
    // Moved to another device, it does not open.
    const { device: two } = await paired(accounts);
    await fixture.redis.hset(fixture.keys.device(two.id), 'name', stored!);
    await expect(admin.nameOf(two.id)).rejects.toThrow();
    expect(await admin.nameOf(device.id)).toBe('Secret phone name');
    expect(await admin.nameOf('nobody')).toBeUndefined();
  });

  test('history: only when the code offers it and the phone asked; handed over once, cached, undismissed, up to the pairing seq, by topic', async () => {
    const { accounts, outbox } = parts();
    await outbox.append(input({ title: 'a' }), 'h1', noop);
    await outbox.append(input({ title: 'b', topic: 'alerts' }), 'h2', noop);
    await outbox.append(input({ title: 'c', topic: 'other' }), 'h3', noop);
    await outbox.append(input({ title: 'd' }), 'h4', noop);
    await outbox.append(input({ title: 'e', owedTo: ['x'] }), 'h5', noop); // Cache: no
    await outbox.dismiss('h4', null);
    const asked = await paired(accounts, { historyHours: 24, topics: ['alerts'] }, true);
    expect(asked.device.historyOffered).toBe(true);
    await outbox.append(input({ title: 'after' }), 'h6', noop);
    expect((await accounts.takePairingHistory(asked.device.id, 10)).map((n) => n.title)).toEqual(['a', 'b']);
    expect(await accounts.takePairingHistory(asked.device.id, 10)).toEqual([]);

    const limited = await paired(accounts, { historyHours: 24 }, true);
    expect((await accounts.takePairingHistory(limited.device.id, 2)).map((n) => n.title)).toEqual(['c', 'after']);

    const notOffered = await paired(accounts, { historyHours: 24 }, false);
    expect(notOffered.device.historyOffered).toBe(false);
    expect(await accounts.takePairingHistory(notOffered.device.id, 10)).toEqual([]);
    const notAsked = await paired(accounts, { historyHours: null }, true);
    expect(notAsked.device.historyOffered).toBe(false);
    expect(await accounts.takePairingHistory(notAsked.device.id, 10)).toEqual([]);
  });

  test('history: nothing older than the window', async () => {
    const { accounts, outbox } = parts();
    await outbox.append(input({ title: 'old' }), 'o1', noop);
    await new Promise((r) => setTimeout(r, 400));
    await outbox.append(input({ title: 'new' }), 'o2', noop);
    // A window of 0.36 s: only the second.
    const { device } = await paired(accounts, { historyHours: 0.0001 }, true);
    expect((await accounts.takePairingHistory(device.id, 10)).map((n) => n.title)).toEqual(['new']);
  });
});

describe('refresh tokens', () => {
  test('rotation: the new token rotates; the old one again is reuse: the family dies and access tokens with it', async () => {
    const { accounts } = parts();
    const { device, refresh } = await paired(accounts);
    const later = Date.now() + 30 * DAY;
    expect(await accounts.rotateRefreshToken(hash(refresh), hash('r2'), later)).toEqual({ kind: 'rotated', deviceId: device.id });
    expect(await accounts.rotateRefreshToken(hash('r2'), hash('r3'), later)).toEqual({ kind: 'rotated', deviceId: device.id });
    expect((await accounts.device(device.id))!.tokenGen).toBe(1);
    expect(await accounts.rotateRefreshToken(hash(refresh), hash('x'), later)).toEqual({ kind: 'reused', deviceId: device.id });
    expect((await accounts.device(device.id))!.tokenGen).toBe(2);
    // The newest of the family is dead too.
    expect((await accounts.rotateRefreshToken(hash('r3'), hash('r4'), later)).kind).not.toBe('rotated');
    expect(await accounts.rotateRefreshToken(hash('unknown'), hash('y'), later)).toEqual({ kind: 'invalid' });
  });

  test('an expired token is invalid; a revoked device has no valid token', async () => {
    const { accounts, admin } = parts();
    const short = await paired(accounts, { refreshExpiresMs: Date.now() - 1 });
    expect(await accounts.rotateRefreshToken(hash(short.refresh), hash('n1'), Date.now() + DAY)).toEqual({ kind: 'invalid' });
    const { device, refresh } = await paired(accounts);
    expect(await admin.revokeDevice(device.id)).toBe(true);
    expect(await accounts.rotateRefreshToken(hash(refresh), hash('n2'), Date.now() + DAY)).toEqual({ kind: 'invalid' });
    // Its refresh tokens are gone from Redis, not only refused.
    expect(await fixture.redis.exists(fixture.keys.refreshToken(hash(refresh)))).toBe(0);
    expect(await fixture.redis.exists(fixture.keys.liveFamilies(device.id))).toBe(0);
  });

  test('a token outlives its expiry by a day in Redis (reuse detection), then goes by TTL', async () => {
    const { accounts } = parts();
    const expires = Date.now() + DAY;
    const { refresh } = await paired(accounts, { refreshExpiresMs: expires });
    const ttl = await fixture.redis.pttl(fixture.keys.refreshToken(hash(refresh)));
    expect(ttl).toBeGreaterThan(2 * DAY - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * DAY);
  });
});

describe('http actions', () => {
  test('a notification the device may act on: its topic filter, not revoked, known', async () => {
    const { accounts, admin, outbox } = parts();
    await outbox.append(input({ topic: 'alerts', title: 'A' }), 'a1', noop);
    await outbox.append(input({ topic: 'other' }), 'a2', noop);
    await outbox.append(input({ topic: null, title: 'U' }), 'a3', noop);
    const { device } = await paired(accounts, { topics: ['alerts'] });
    expect((await accounts.notificationForDevice(device.id, 'a1'))?.title).toBe('A');
    expect(await accounts.notificationForDevice(device.id, 'a2')).toBeUndefined();
    expect((await accounts.notificationForDevice(device.id, 'a3'))?.title).toBe('U');
    expect(await accounts.notificationForDevice(device.id, 'nope')).toBeUndefined();
    await admin.revokeDevice(device.id);
    expect(await accounts.notificationForDevice(device.id, 'a1')).toBeUndefined();
    expect(await accounts.notificationForDevice('nobody', 'a1')).toBeUndefined();
  });
});

describe('directory', () => {
  test('list in pairing order, rename, topics, last seen, revoke (once); a revoked device cannot be renamed or filtered', async () => {
    const { accounts, admin } = parts();
    const a = (await paired(accounts, { name: 'A' })).device;
    await new Promise((r) => setTimeout(r, 5));
    const b = (await paired(accounts, { name: 'B' })).device;
    expect((await admin.activeDevices()).map((d) => d.name)).toEqual(['A', 'B']);
    expect(await admin.renameDevice(a.id, 'A2')).toBe(true);
    expect(await admin.setDeviceTopics(a.id, ['x', 'y'])).toBe(true);
    expect(await admin.renameDevice('nobody', 'Z')).toBe(false);
    const delivery = new RedisDeliveryStore(fixture.redis, fixture.keys, sealer, new DeviceLeases(fixture.redis, fixture.keys, 'node-a', 60_000));
    await delivery.touch(b.id, new Date('2026-01-02T03:04:05.000Z'));
    expect(await admin.activeDevices()).toEqual([
      expect.objectContaining({ id: a.id, name: 'A2', topics: ['x', 'y'], lastSeenAt: null }),
      expect.objectContaining({ id: b.id, name: 'B', topics: null, lastSeenAt: '2026-01-02T03:04:05.000Z' }),
    ]);
    expect(await admin.setDeviceTopics(a.id, null)).toBe(true);
    expect((await accounts.device(a.id))!.topics).toBeNull();

    expect(await admin.revokeDevice(a.id)).toBe(true);
    expect(await admin.revokeDevice(a.id)).toBe(false);
    expect(await admin.revokeDevice('nobody')).toBe(false);
    expect((await admin.activeDevices()).map((d) => d.id)).toEqual([b.id]);
    const revoked = (await accounts.device(a.id))!;
    expect(revoked.revokedAt).not.toBeNull();
    expect(revoked.tokenGen).toBe(2);
    expect(await admin.renameDevice(a.id, 'ghost')).toBe(false);
    expect(await admin.setDeviceTopics(a.id, ['z'])).toBe(false);
  });
});

describe('two connections at once', () => {
  test('a pairing code claimed from two connections at once pairs one device', async () => {
    const one = parts(fixture.redis).accounts;
    const two = parts(fixture.other).accounts;
    for (let round = 0; round < 25; round++) {
      const code = hash(`code-${round}`);
      await one.createPairingCode(code, Date.now() + 60_000, false);
      const results = await Promise.all([one.pairDevice(code, newDevice()), two.pairDevice(code, newDevice())]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    }
    expect(await fixture.redis.zcard(fixture.keys.devices)).toBe(25);
  });

  test('a refresh token replayed from two connections at once: one rotates, the other revokes the family', async () => {
    const one = parts(fixture.redis).accounts;
    const two = parts(fixture.other).accounts;
    for (let round = 0; round < 25; round++) {
      const { device, refresh } = await paired(one);
      const later = Date.now() + DAY;
      const outcomes = await Promise.all([one.rotateRefreshToken(hash(refresh), hash(`a${round}`), later), two.rotateRefreshToken(hash(refresh), hash(`b${round}`), later)]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['reused', 'rotated']);
      // The access tokens died with the family, and whichever token the rotation handed out too.
      expect((await two.device(device.id))!.tokenGen).toBe(2);
      for (const next of [`a${round}`, `b${round}`]) expect((await one.rotateRefreshToken(hash(next), hash(`c${round}${next}`), later)).kind).not.toBe('rotated');
    }
  });

  test('a revocation on one connection fails the next access-token check on another at once', async () => {
    const ring = keyRing();
    const nodeA = parts(fixture.redis);
    const nodeB = parts(fixture.other);
    const tokensA = new TokenService(ring, nodeA.accounts, 900);
    const tokensB = new TokenService(ring, nodeB.accounts, 900);
    const { device } = await paired(nodeA.accounts);
    const token = tokensA.issue(device.id, device.tokenGen);
    await expect(tokensB.verify(token)).resolves.toEqual({ deviceId: device.id });
    await nodeA.admin.revokeDevice(device.id);
    await expect(tokensB.verify(token)).rejects.toMatchObject({ code: 'device_revoked' });
    await expect(tokensA.verify(token)).rejects.toMatchObject({ code: 'device_revoked' });

    // Reuse on B bumps the generation: A's next check of an older token fails.
    const { device: d2, refresh } = await paired(nodeA.accounts);
    const old = tokensA.issue(d2.id, d2.tokenGen);
    await nodeB.accounts.rotateRefreshToken(hash(refresh), hash('n'), Date.now() + DAY);
    await nodeB.accounts.rotateRefreshToken(hash(refresh), hash('m'), Date.now() + DAY);
    await expect(tokensA.verify(old)).rejects.toMatchObject({ code: 'invalid_token' });
  });
});

test('devices, codes, tokens and revocations survive a redis-server restart (appendonly, fsync always)', async () => {
  const { accounts, admin } = parts();
  const { device, refresh } = await paired(accounts, { name: 'Kept' });
  const { device: gone } = await paired(accounts);
  await admin.revokeDevice(gone.id);
  await accounts.createPairingCode(hash('22222222'), Date.now() + 60_000, true);
  await fixture.server.kill9();
  await fixture.server.restart();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await fixture.redis.ping().catch(() => null)) !== 'PONG') await new Promise((r) => setTimeout(r, 100));
  expect(await accounts.device(device.id)).toMatchObject({ name: 'Kept', revokedAt: null });
  expect((await accounts.device(gone.id))!.revokedAt).not.toBeNull();
  expect((await admin.activeDevices()).map((d) => d.id)).toEqual([device.id]);
  expect(await accounts.rotateRefreshToken(hash(refresh), hash('after'), Date.now() + DAY)).toEqual({ kind: 'rotated', deviceId: device.id });
  expect(await accounts.pairDevice(hash('22222222'), newDevice())).not.toBeNull();
});
