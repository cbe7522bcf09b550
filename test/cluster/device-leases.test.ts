import { DeviceLeases } from '../../app/cluster/device-leases';
import { RedisDeliveryStore } from '../../app/cluster/redis-delivery-store';
import { RedisServer } from '../helpers/redis-server';
import { addDevice, connectTo, realSealer, useRedis } from './fixtures';

// Fencing of progress writes: the newest connection's node wins the device (a bumped epoch),
// the old node's writes are dropped (and it is told, to close its socket), a node paused past
// its lease (Redis' TTL) cannot write after it resumes, renew keeps a lease, release gives only
// one's own lease up. Writes Redis did not take while it was away are held and written later.

const sealer = realSealer();
const fixture = useRedis();

beforeEach(async () => {
  await addDevice(fixture.redis, fixture.keys, 'd', 0);
});

/** One node: its leases and its store, and the devices it was told it lost. */
function node(id: string, ttlMs = 60_000) {
  const fenced: string[] = [];
  const leases = new DeviceLeases(fixture.redis, fixture.keys, id, ttlMs);
  return { leases, fenced, store: new RedisDeliveryStore(fixture.redis, fixture.keys, sealer, leases, (d) => fenced.push(d)) };
}

const write = (watermark: number, dismissCursor?: number) => ({ deviceId: 'd', priorities: [{ priority: 3, watermark, ackedAbove: [] }], ...(dismissCursor !== undefined ? { dismissCursor } : {}) });

test('the newest connection wins: the old node’s write is dropped and it is told; the new node’s lands', async () => {
  const a = node('node-a');
  const b = node('node-b');
  expect(await a.leases.acquire('d')).toBe(1);
  await a.store.saveProgress([write(5)]);
  expect(await b.leases.acquire('d')).toBe(2);
  await a.store.saveProgress([write(9)]); // stale: taken under epoch 1
  expect(a.fenced).toEqual(['d']);
  expect((await b.store.progress('d'))!.priorities[3].watermark).toBe(5);
  await b.store.saveProgress([write(7)]);
  expect((await b.store.progress('d'))!.priorities[3].watermark).toBe(7);
  expect(await a.leases.renew('d')).toBe(false);
  expect(await b.leases.renew('d')).toBe(true);
  await a.store.saveProgress([write(100)]); // not held any more: not even sent
  expect((await b.store.progress('d'))!.priorities[3].watermark).toBe(7);
  expect(b.fenced).toEqual([]);
});

test('a node paused past its lease (Redis’ TTL) cannot write when it resumes', async () => {
  const a = node('node-a', 200);
  await a.leases.acquire('d');
  // Wait for Redis to expire it: its clock, not ours.
  while ((await fixture.redis.exists(fixture.keys.lease('d'))) === 1) await new Promise((r) => setTimeout(r, 20));
  await a.store.saveProgress([write(9)]);
  expect(a.fenced).toEqual(['d']);
  expect((await a.store.progress('d'))!.priorities[3].watermark).toBe(0);
});

test('renew extends a held lease; release deletes only one’s own lease', async () => {
  const a = node('node-a');
  const b = node('node-b');
  await a.leases.acquire('d');
  await fixture.redis.pexpire(fixture.keys.lease('d'), 100);
  expect(await a.leases.renew('d')).toBe(true);
  expect(await fixture.redis.pttl(fixture.keys.lease('d'))).toBeGreaterThan(1_000);
  await b.leases.acquire('d');
  await a.leases.release('d');
  expect(await fixture.redis.get(fixture.keys.lease('d'))).toBe('2 node-b');
  await b.leases.release('d');
  expect(await fixture.redis.exists(fixture.keys.lease('d'))).toBe(0);
  expect(await fixture.redis.get(fixture.keys.epoch('d'))).toBe('2');
});

test('Redis away: writes are held (merged per device) and written once it is back', async () => {
  const own = await RedisServer.start({ config: { appendfsync: 'always' } });
  const { conn: c, keys: k } = await connectTo(own);
  try {
    await addDevice(c.redis, k, 'd', 0);
    const leases = new DeviceLeases(c.redis, k, 'node-a', 60_000);
    const store = new RedisDeliveryStore(c.redis, k, sealer, leases);
    await leases.acquire('d');
    await own.kill9();
    await expect(store.saveProgress([write(4, 6)])).rejects.toMatchObject({ name: 'CommitError' });
    await expect(store.saveProgress([{ deviceId: 'd', priorities: [{ priority: 5, watermark: 2, ackedAbove: [3] }], dismissCursor: 5 }])).rejects.toMatchObject({ name: 'CommitError' });
    expect(store.heldWrites).toBe(1);
    await own.restart();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && store.heldWrites > 0) await store.flushHeld().catch(() => new Promise((r) => setTimeout(r, 100)));
    const progress = (await store.progress('d'))!;
    expect(progress.priorities[3]).toEqual({ watermark: 4, ackedAbove: [] });
    expect(progress.priorities[5]).toEqual({ watermark: 2, ackedAbove: [3] });
    expect(progress.dismissCursor).toBe(6);
  } finally {
    await c.close();
    await own.stop();
  }
});
