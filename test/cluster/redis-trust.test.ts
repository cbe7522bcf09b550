import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import { SigningKeyRing } from '../../app/auth/signing-keys';
import { TokenService } from '../../app/auth/token-service';
import { openUnderMaster, sealUnderMaster } from '../../app/cluster/master-seal';
import { RedisCaStore } from '../../app/cluster/redis-ca-store';
import { LeaseBusyError, RedisClusterLease } from '../../app/cluster/redis-cluster-lease';
import { RedisDataKeys } from '../../app/cluster/redis-data-keys';
import { RedisMasterCheck } from '../../app/cluster/redis-master-check';
import { RedisSharedSecret } from '../../app/cluster/redis-shared-secret';
import { RedisSigningKeyRing } from '../../app/cluster/redis-signing-key-ring';
import { createCertificateAuthority } from '../../app/crypto/certificate-authority';
import { fingerprintOf, loadOrCreateCertificates } from '../../app/crypto/certificates';
import { FieldCipher, newDataKey } from '../../app/crypto/field-cipher';
import { useRedis } from './fixtures';
import { clockPast, untilRedisAnswers } from './wait';

// Trust material shared by the cluster, sealed under the master key every node is started with:
// the master-key check, the data-key ring, the JWT signing-key ring (rotated under a lease, a new
// key verifying everywhere before it signs) and the CA; and the cluster lease itself.

const fixture = useRedis({ config: { appendfsync: 'always' } });
const master = crypto.randomBytes(32);
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-redis-trust-'));
  dirs.push(d);
  return d;
};

afterAll(async () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Every value under the prefix, as Redis holds it (to look for plaintext). */
async function everything(): Promise<string> {
  const out: string[] = [];
  for (const k of await fixture.redis.keys('beep:*')) {
    const type = await fixture.redis.type(k);
    if (type === 'string') out.push((await fixture.redis.get(k))!);
    if (type === 'hash') out.push(JSON.stringify(await fixture.redis.hgetall(k)));
  }
  return out.join('\n');
}

describe('sealed under the master key', () => {
  test('a value opens under the same key and name only; a node with another master key is refused', async () => {
    const sealed = sealUnderMaster(master, 'secret', 'certificate authority');
    expect(openUnderMaster(master, sealed, 'certificate authority')).toBe('secret');
    expect(() => openUnderMaster(master, sealed, 'signing key 1')).toThrow(/another master key/);
    expect(() => openUnderMaster(crypto.randomBytes(32), sealed, 'certificate authority')).toThrow(/copy keys\/master.key/);
    await new RedisMasterCheck(fixture.redis, fixture.keys, master).verify();
    await new RedisMasterCheck(fixture.other, fixture.keys, Buffer.from(master)).verify();
    await expect(new RedisMasterCheck(fixture.other, fixture.keys, crypto.randomBytes(32)).verify()).rejects.toThrow(/another master key than the cluster's/);
  });
});

describe('a shared secret (the audit key)', () => {
  test('every node uses the first one offered; Redis holds it sealed', async () => {
    const first = crypto.randomBytes(32);
    const [a, b] = await Promise.all([
      new RedisSharedSecret(fixture.redis, fixture.keys, master, 'audit-key').shared(first),
      new RedisSharedSecret(fixture.other, fixture.keys, master, 'audit-key').shared(crypto.randomBytes(32)),
    ]);
    expect(b.equals(a)).toBe(true);
    expect((await new RedisSharedSecret(fixture.redis, fixture.keys, master, 'audit-key').shared(crypto.randomBytes(32))).equals(a)).toBe(true);
    expect(await everything()).not.toContain(a.toString('base64'));
    await expect(new RedisSharedSecret(fixture.redis, fixture.keys, crypto.randomBytes(32), 'audit-key').shared(first)).rejects.toThrow(/another master key/);
  });
});

describe('the cluster lease', () => {
  const lease = (on: Redis, node: string, ttl = 60_000) => new RedisClusterLease(on, fixture.keys, 'data-key-rotation', node, ttl);

  test('one holder at a time; renew and release only by the holder', async () => {
    const a = lease(fixture.redis, 'a');
    const b = lease(fixture.other, 'b');
    const [ga, gb] = await Promise.all([a.acquire(), b.acquire()]);
    expect([ga, gb].filter(Boolean)).toHaveLength(1);
    const [holder, waiting] = ga ? [a, b] : [b, a];
    expect(await waiting.renew()).toBe(false);
    expect(await waiting.release()).toBe(false);
    expect(await holder.renew()).toBe(true);
    expect(await holder.release()).toBe(true);
    expect(await waiting.acquire()).toBe(true);
  });

  test('a holder killed holding it: the lease frees at its TTL, and the late holder cannot release the new one', async () => {
    const dead = lease(fixture.redis, 'dead', 150);
    expect(await dead.acquire()).toBe(true);
    const b = lease(fixture.other, 'b');
    expect(await b.acquire()).toBe(false);
    const deadline = Date.now() + 10_000;
    while (!(await b.acquire()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await b.holder())!.startsWith('b:')).toBe(true);
    expect(await dead.renew()).toBe(false);
    expect(await dead.release()).toBe(false);
    expect((await b.holder())!.startsWith('b:')).toBe(true);
  });

  test('run: renewed past its TTL while the work runs, refused to another node meanwhile, released after', async () => {
    const a = lease(fixture.redis, 'a', 150);
    let release!: () => void;
    const working = a.run(async (lost) => {
      await new Promise<void>((r) => (release = r));
      return lost();
    });
    while (!release) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    while (Date.now() - started < 600) {
      await expect(lease(fixture.other, 'b', 150).run(async () => 'ran')).rejects.toBeInstanceOf(LeaseBusyError);
      await new Promise((r) => setTimeout(r, 50));
    }
    release();
    expect(await working).toBe(false);
    expect(await a.holder()).toBeNull();
    expect(await lease(fixture.other, 'b').run(async () => 'ran')).toBe('ran');
  });
});

describe('the data-key ring', () => {
  test('two nodes starting on an empty cluster agree on one first key; a value sealed on one opens on the other', async () => {
    const nodes = [new RedisDataKeys(fixture.redis, fixture.keys), new RedisDataKeys(fixture.other, fixture.keys)];
    await Promise.all(nodes.map((n) => n.insert(newDataKey(master))));
    const rings = await Promise.all(nodes.map((n) => n.list()));
    expect(rings[0]).toHaveLength(1);
    expect(rings[1]).toEqual(rings[0]);
    const [a, b] = rings.map((r) => {
      const c = new FieldCipher();
      c.load(master, r);
      return c;
    });
    expect(b.open(a.seal('Disk full', 'notifications.n-1'), 'notifications.n-1')).toBe('Disk full');
    const wrongMaster = new FieldCipher();
    expect(() => wrongMaster.load(crypto.randomBytes(32), rings[0])).toThrow(/wrong master key/);
  });

  test('keys added within one millisecond keep the order they were added in (Redis dates each after the last)', async () => {
    const ring = new RedisDataKeys(fixture.redis, fixture.keys);
    const added = Array.from({ length: 20 }, () => newDataKey(master));
    await ring.insert(added[0]);
    for (const key of added.slice(1)) expect(await ring.add(key)).toBe(true);
    expect((await ring.list()).map((k) => k.id)).toEqual(added.map((k) => k.id));
  });

  test('a rotation adds a key at the end of the ring; a retired one is removed', async () => {
    const ring = new RedisDataKeys(fixture.redis, fixture.keys);
    const first = newDataKey(master);
    await ring.insert(first);
    const second = newDataKey(master);
    expect(await ring.add(second)).toBe(true);
    expect(await ring.add(second)).toBe(false);
    await ring.insert(newDataKey(master)); // not the first start any more: ignored
    expect((await ring.list()).map((k) => k.id)).toEqual([first.id, second.id]);
    expect(await ring.currentId(60_000)).toBe(first.id); // the new key is not sealed with before every node has it
    // Added within first's millisecond, second is dated one after it: active once Redis' clock gets there.
    const [sec, micro] = await fixture.redis.time();
    await clockPast(Math.max(Number(sec) * 1000 + Math.floor(Number(micro) / 1000), Date.now()) + 2);
    expect(await ring.currentId(0)).toBe(second.id);
    expect(await ring.remove(first.id)).toBe(true);
    expect((await ring.list()).map((k) => k.id)).toEqual([second.id]);
  });
});

describe('the JWT signing-key ring', () => {
  const DAY = 86_400_000;
  const options = (clock: { now: number }) => ({ rotationDays: 30, retainMs: 15 * 60_000, activationMs: 120_000, now: () => clock.now });
  const devices = { device: async () => ({ revokedAt: null, tokenGen: 0 }) };
  const ringOn = (on: Redis, clock: { now: number }, node: string, seed?: Parameters<typeof RedisSigningKeyRing.open>[5]) =>
    RedisSigningKeyRing.open(on, fixture.keys, master, new RedisClusterLease(on, fixture.keys, 'signing-key-rotation', node, 30_000), options(clock), seed);

  test('two nodes opening an empty cluster share one key: a token issued on one verifies on the other; no PEM in Redis', async () => {
    const clock = { now: Date.now() };
    const [a, b] = await Promise.all([ringOn(fixture.redis, clock, 'a'), ringOn(fixture.other, clock, 'b')]);
    expect(a.kids()).toHaveLength(1);
    expect(b.kids()).toEqual(a.kids());
    const token = new TokenService(a, devices, 900).issue('d1', 0);
    await expect(new TokenService(b, devices, 900).verify(token)).resolves.toEqual({ deviceId: 'd1' });
    expect(await everything()).not.toMatch(/PRIVATE KEY/);
  });

  test('an empty cluster is seeded with a node\'s own ring, so the tokens it issued keep verifying', async () => {
    const fileRing = new SigningKeyRing(tempDir(), { rotationDays: 30, retainMs: 15 * 60_000 });
    const oldToken = new TokenService(fileRing, devices, 900).issue('d1', 0);
    const clock = { now: Date.now() };
    const seeded = await ringOn(fixture.redis, clock, 'a', [fileRing.current()]);
    const joined = await ringOn(fixture.other, clock, 'b', [new SigningKeyRing(tempDir(), { rotationDays: 30, retainMs: 1 }).current()]);
    expect(joined.kids()).toEqual([fileRing.current().kid]); // the cluster had one already: the second seed is ignored
    await expect(new TokenService(joined, devices, 900).verify(oldToken)).resolves.toEqual({ deviceId: 'd1' });
    expect(seeded.current().kid).toBe(fileRing.current().kid);
  });

  test('rotation under the lease: the new key verifies on every node before it signs; the old one goes after tokens expire', async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const a = await ringOn(fixture.redis, clock, 'a');
    const b = await ringOn(fixture.other, clock, 'b');
    const oldKid = a.current().kid;
    expect(await a.rotateIfDue()).toBeUndefined(); // not due
    clock.now += 31 * DAY;
    const busy = new RedisClusterLease(fixture.other, fixture.keys, 'signing-key-rotation', 'c', 30_000);
    expect(await busy.acquire()).toBe(true);
    expect(await a.rotateIfDue()).toBeUndefined(); // another node is rotating
    await busy.release();
    const created = (await a.rotateIfDue())!;
    expect(created.kid).not.toBe(oldKid);
    expect(a.current().kid).toBe(oldKid); // not active yet
    await b.refresh();
    expect(b.byKid(created.kid)).toBeDefined(); // b verifies it before anyone signs with it
    clock.now += 120_000;
    expect(a.current().kid).toBe(created.kid);
    const token = new TokenService(a, devices, 900).issue('d1', 0);
    await expect(new TokenService(b, devices, 900).verify(token)).resolves.toEqual({ deviceId: 'd1' });
    expect(await b.rotateIfDue()).toBeUndefined(); // the new key is not due: nothing twice
    expect(b.kids()).toEqual([created.kid, oldKid]);
    clock.now += 15 * 60_000;
    await b.rotateIfDue();
    await a.refresh();
    expect(a.kids()).toEqual([created.kid]);
  });
});

describe('the certificate authority', () => {
  test('the first node publishes its CA; another node\'s directory gets it and serves a certificate under it', async () => {
    const dirA = tempDir();
    const dirB = tempDir();
    const ownA = await loadOrCreateCertificates({ dir: dirA, hostnames: ['node-a'] });
    const ownB = await loadOrCreateCertificates({ dir: dirB, hostnames: ['node-b'] });
    expect(ownB.caFingerprint).not.toBe(ownA.caFingerprint);
    const a = new RedisCaStore(fixture.redis, fixture.keys, master);
    const b = new RedisCaStore(fixture.other, fixture.keys, master);
    expect(await a.syncToDirectory(dirA, 'node-a')).toEqual({ outcome: 'published', fingerprint: ownA.caFingerprint });
    expect(await b.syncToDirectory(dirB, 'node-b')).toEqual({ outcome: 'replaced', fingerprint: ownA.caFingerprint, previous: ownB.caFingerprint });
    const served = await loadOrCreateCertificates({ dir: dirB, hostnames: ['node-b'] });
    expect(served).toMatchObject({ caFingerprint: ownA.caFingerprint, issued: true });
    expect(await b.syncToDirectory(dirB, 'node-b')).toEqual({ outcome: 'same', fingerprint: ownA.caFingerprint });
    const dirC = tempDir();
    expect(await new RedisCaStore(fixture.other, fixture.keys, master).syncToDirectory(dirC, 'node-c')).toEqual({ outcome: 'written', fingerprint: ownA.caFingerprint });
    expect(await everything()).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  test('two empty nodes at once agree on one new CA', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const results = await Promise.all([new RedisCaStore(fixture.redis, fixture.keys, master).syncToDirectory(dirA, 'a'), new RedisCaStore(fixture.other, fixture.keys, master).syncToDirectory(dirB, 'b')]);
    expect(results[0].fingerprint).toBe(results[1].fingerprint);
    expect(fs.readFileSync(path.join(dirA, 'ca.key'), 'utf8')).toBe(fs.readFileSync(path.join(dirB, 'ca.key'), 'utf8'));
  });

  test('rotate: replaces the CA only while it is the expected one; two rotations of the same CA give one new CA; every directory syncs to it', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const a = new RedisCaStore(fixture.redis, fixture.keys, master);
    const b = new RedisCaStore(fixture.other, fixture.keys, master);
    const first = await a.syncToDirectory(dirA, 'a');
    await b.syncToDirectory(dirB, 'b');
    expect(await a.generation()).toBe(0);
    const [nextA, nextB] = await Promise.all([createCertificateAuthority('a', new Date()), createCertificateAuthority('b', new Date())]);
    const results = await Promise.all([a.rotate(first.fingerprint, nextA), b.rotate(first.fingerprint, nextB)]);
    const rotated = results.filter((r) => r.outcome === 'rotated');
    expect(rotated).toHaveLength(1);
    const winner = rotated[0].outcome === 'rotated' ? rotated[0].fingerprint : '';
    expect(results).toContainEqual({ outcome: 'rotated', fingerprint: winner, previous: first.fingerprint, generation: 1 });
    expect(results).toContainEqual({ outcome: 'changed', fingerprint: winner });
    expect([fingerprintOf(nextA.certPem), fingerprintOf(nextB.certPem)]).toContain(winner);
    expect(await b.generation()).toBe(1);
    expect(fingerprintOf((await b.get())!.certPem)).toBe(winner);
    // A rotation asked of the old CA after the fact changes nothing.
    expect(await a.rotate(first.fingerprint, await createCertificateAuthority('late', new Date()))).toEqual({ outcome: 'changed', fingerprint: winner });
    expect(await a.generation()).toBe(1);
    // Every node's directory takes the new CA; the server certificate loaded after it is issued under it.
    expect(await b.syncToDirectory(dirB, 'b')).toEqual({ outcome: 'replaced', fingerprint: winner, previous: first.fingerprint });
    expect(await loadOrCreateCertificates({ dir: dirB, hostnames: ['node-b'] })).toMatchObject({ caFingerprint: winner, issued: true, caNameConstrained: true });
    expect(await everything()).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  test('rotate on a cluster with no CA yet publishes nothing', async () => {
    const next = await createCertificateAuthority('a', new Date());
    expect(await new RedisCaStore(fixture.redis, fixture.keys, master).rotate('00:11', next)).toEqual({ outcome: 'changed', fingerprint: null });
    expect(await new RedisCaStore(fixture.redis, fixture.keys, master).get()).toBeNull();
  });
});

test('survives a redis-server restart: every node loads the same material after it', async () => {
  const clock = { now: Date.now() };
  await new RedisDataKeys(fixture.redis, fixture.keys).insert(newDataKey(master));
  const ring = await RedisSigningKeyRing.open(fixture.redis, fixture.keys, master, new RedisClusterLease(fixture.redis, fixture.keys, 'signing-key-rotation', 'a', 30_000), { rotationDays: 30, retainMs: 1, activationMs: 1, now: () => clock.now });
  const ca = await new RedisCaStore(fixture.redis, fixture.keys, master).syncToDirectory(tempDir(), 'a');
  const before = { data: await new RedisDataKeys(fixture.redis, fixture.keys).list(), kids: ring.kids() };
  await fixture.server.restart();
  await untilRedisAnswers(fixture.redis);
  await new RedisMasterCheck(fixture.redis, fixture.keys, master).verify();
  expect(await new RedisDataKeys(fixture.redis, fixture.keys).list()).toEqual(before.data);
  const again = await RedisSigningKeyRing.open(fixture.redis, fixture.keys, master, new RedisClusterLease(fixture.redis, fixture.keys, 'signing-key-rotation', 'b', 30_000), { rotationDays: 30, retainMs: 1, activationMs: 1 });
  expect(again.kids()).toEqual(before.kids);
  expect(await new RedisCaStore(fixture.redis, fixture.keys, master).syncToDirectory(tempDir(), 'b')).toEqual({ outcome: 'written', fingerprint: ca.fingerprint });
});
