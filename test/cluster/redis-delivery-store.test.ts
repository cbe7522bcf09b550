import { DeviceLeases } from '../../app/cluster/device-leases';
import { RedisDeliveryStore } from '../../app/cluster/redis-delivery-store';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import type { Priority } from '../../app/domain/priority';
import { addDevice, input, realSealer, useRedis } from './fixtures';

// The delivery port on Redis, case for case with test/unit/store/delivery-store.test.ts:
// progress per priority (a device paired later starts at its pairing seq, revoked = undefined),
// pages by (priority, seq) of undismissed notifications, many devices' progress in one write
// with cursors only moving forward and a device that is gone passed over, owed counts by
// watermark, acked-above and topic, dismissals after a cursor; plus `Cache: no` purging and touch.

const fixture = useRedis();
const sealer = realSealer();
const noop = () => undefined;

function parts() {
  const leases = new DeviceLeases(fixture.redis, fixture.keys, 'node-a', 60_000);
  return { leases, store: new RedisDeliveryStore(fixture.redis, fixture.keys, sealer, leases), outbox: new RedisOutbox(fixture.redis, fixture.keys, sealer, 3_600) };
}

/** Appends notifications n<seq> in seq order (seqs start at 1 after flushall). */
async function append(outbox: RedisOutbox, specs: { priority: number; topic?: string | null }[]): Promise<void> {
  for (const [i, spec] of specs.entries()) await outbox.append(input({ priority: spec.priority as Priority, topic: spec.topic ?? null }), `n${i + 1}`, noop);
}

test('progress: per priority, a device paired later starts every priority at its pairing seq; revoked = undefined', async () => {
  const { store } = parts();
  await addDevice(fixture.redis, fixture.keys, 'new', 7, ['alerts']);
  expect(await store.progress('new')).toEqual({
    priorities: { 1: { watermark: 7, ackedAbove: [] }, 2: { watermark: 7, ackedAbove: [] }, 3: { watermark: 7, ackedAbove: [] }, 4: { watermark: 7, ackedAbove: [] }, 5: { watermark: 7, ackedAbove: [] } },
    dismissCursor: 0,
    topics: ['alerts'],
  });
  await fixture.redis.hset(fixture.keys.device('new'), 'revokedAt', 'x');
  expect(await store.progress('new')).toBeUndefined();
  expect(await store.progress('nobody')).toBeUndefined();
});

test('pages: per arm, undismissed notifications above its seq in seq order; only a taken row is opened', async () => {
  const { store, outbox } = parts();
  await append(outbox, Array.from({ length: 30 }, (_, i) => ({ priority: ((i + 1) % 3) + 3 })));
  await outbox.dismiss('n4', null);
  const rows = await store.page([{ priority: 5, afterSeq: 0 }, { priority: 4, afterSeq: 10 }], 4);
  expect(rows.map((r) => [r.priority, r.seq])).toEqual([[5, 2], [5, 5], [5, 8], [5, 11], [4, 13], [4, 16], [4, 19], [4, 22]]);
  expect(rows.map((r) => r.id).slice(0, 2)).toEqual(['n2', 'n5']);
  expect(rows[0].open()).toMatchObject({ id: 'n2', seq: 2, priority: 5, title: 'Disk full' });
  expect(await store.page([], 4)).toEqual([]);
});

test('saveProgress: many devices in one write; cursors only move forward; a device gone is passed over', async () => {
  const { store, leases } = parts();
  await addDevice(fixture.redis, fixture.keys, 'a', 0);
  await addDevice(fixture.redis, fixture.keys, 'b', 0);
  for (const d of ['a', 'b', 'ghost']) await leases.acquire(d);
  await store.saveProgress([
    { deviceId: 'a', priorities: [{ priority: 5, watermark: 9, ackedAbove: [12] }], dismissCursor: 4 },
    { deviceId: 'ghost', priorities: [{ priority: 3, watermark: 1, ackedAbove: [] }] },
    { deviceId: 'b', priorities: [], dismissCursor: 2 },
  ]);
  await store.saveProgress([{ deviceId: 'a', priorities: [{ priority: 5, watermark: 12, ackedAbove: [] }], dismissCursor: 3 }]);
  const a = (await store.progress('a'))!;
  expect(a.priorities[5]).toEqual({ watermark: 12, ackedAbove: [] });
  expect(a.priorities[3]).toEqual({ watermark: 0, ackedAbove: [] });
  expect(a.dismissCursor).toBe(4);
  expect((await store.progress('b'))!.dismissCursor).toBe(2);
  expect(await fixture.redis.exists(fixture.keys.progress('ghost'), fixture.keys.device('ghost'))).toBe(0);
});

test('countOwed and dismissalsAfter', async () => {
  const { store, outbox } = parts();
  await append(outbox, [{ priority: 3 }, { priority: 5 }, { priority: 3, topic: 'chat' }, { priority: 3, topic: 'alerts' }, { priority: 3 }]);
  await outbox.dismiss('n5', null);
  const all = { 1: { watermark: 0, ackedAbove: [] }, 2: { watermark: 0, ackedAbove: [] }, 4: { watermark: 0, ackedAbove: [] } };
  const progress = { priorities: { ...all, 3: { watermark: 0, ackedAbove: [1] }, 5: { watermark: 2, ackedAbove: [] } }, dismissCursor: 0, topics: null };
  expect(await store.countOwed(progress)).toBe(2); // 3 and 4
  expect(await store.countOwed({ ...progress, topics: ['alerts'] })).toBe(1);
  expect(await store.countOwed({ ...progress, topics: ['alerts', 'alerts', 'chat'] })).toBe(2);
  expect(await store.countOwed({ ...progress, priorities: { ...progress.priorities, 3: { watermark: 0, ackedAbove: [] } }, topics: ['alerts'] })).toBe(2); // 1 (untopiced) and 4
  for (const id of ['n1', 'n2', 'n3']) await outbox.dismiss(id, null);
  expect(await store.dismissalsAfter(1, 1)).toEqual([{ seq: 2, notificationId: 'n1' }]); // seq 1 was n5's
  expect(await store.dismissalsAfter(0, 10)).toEqual([{ seq: 1, notificationId: 'n5' }, { seq: 2, notificationId: 'n1' }, { seq: 3, notificationId: 'n2' }, { seq: 4, notificationId: 'n3' }]);
});

test('Cache: no: unindexed by the progress write that settles it for the last device it is owed to', async () => {
  const { store, outbox, leases } = parts();
  await addDevice(fixture.redis, fixture.keys, 'a', 0);
  await addDevice(fixture.redis, fixture.keys, 'b', 0);
  await addDevice(fixture.redis, fixture.keys, 'gone', 0);
  await outbox.append(input({ priority: 4, uncached: true, owedTo: ['a', 'b', 'gone'] }), 'u1', noop); // seq 1
  await fixture.redis.del(fixture.keys.device('gone'));
  await leases.acquire('a');
  await leases.acquire('b');
  await store.saveProgress([{ deviceId: 'a', priorities: [{ priority: 4, watermark: 1, ackedAbove: [] }] }]);
  expect(await fixture.redis.zrange(fixture.keys.owed(4), 0, -1)).toEqual(['1']);
  await store.saveProgress([{ deviceId: 'b', priorities: [{ priority: 4, watermark: 0, ackedAbove: [1] }] }]);
  expect(await fixture.redis.zrange(fixture.keys.owed(4), 0, -1)).toEqual([]);
  expect(await fixture.redis.zcard(fixture.keys.uncached)).toBe(0);
});

test('touch: records when a known device was last seen, creates nothing for an unknown one', async () => {
  const { store } = parts();
  await addDevice(fixture.redis, fixture.keys, 'a', 0);
  await store.touch('a', new Date('2026-11-30T01:00:00.000Z'));
  await store.touch('nobody', new Date());
  expect(await fixture.redis.hget(fixture.keys.device('a'), 'lastSeenAt')).toBe('2026-11-30T01:00:00.000Z');
  expect(await fixture.redis.exists(fixture.keys.device('nobody'))).toBe(0);
});
