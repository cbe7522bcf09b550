import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { RedisRetention } from '../../app/cluster/redis-retention';
import { RedisTopicHistory } from '../../app/cluster/redis-topic-history';
import { addDevice, input, realSealer, useRedis } from './fixtures';
import { clockPast, untilRedisAnswers } from './wait';

// Retention on Redis: the outbox stream and every index lose what was created before the
// cut-off, a bounded batch per script, but never a seq a live device still owes (read from its
// progress keys); old dismissals go once every device's cursor is past them; two nodes sweeping
// at once remove each entry once.

const fixture = useRedis({ config: { appendfsync: 'always' } });
const sealer = realSealer();

const outbox = () => new RedisOutbox(fixture.redis, fixture.keys, sealer, 86_400);
const noop = () => undefined;

/** Six old notifications (topic a, priority 3; the fourth Cache: no, the fifth dismissed), then two fresh; returns the cut-off. */
async function oldAndFresh(): Promise<number> {
  for (let i = 1; i <= 6; i++) await outbox().append(input({ topic: 'a', ...(i === 4 ? { owedTo: ['d1'] } : {}) }), `old-${i}`, noop);
  await outbox().dismiss('old-5', 'd1');
  const cutoff = Date.now() + 1;
  await clockPast(cutoff);
  for (let i = 1; i <= 2; i++) await outbox().append(input({ topic: 'a' }), `fresh-${i}`, noop);
  return cutoff;
}

async function streamSeqs(): Promise<number[]> {
  return (await fixture.redis.xrange(fixture.keys.outbox, '-', '+')).map(([id]) => Number.parseInt(id, 10));
}

test('with no device owed anything, everything before the cut-off goes from the stream and every index', async () => {
  const cutoff = await oldAndFresh();
  const retention = new RedisRetention(fixture.redis, fixture.keys, 2);
  expect(await retention.prune(cutoff)).toBe(6);
  expect(retention.last).toMatchObject({ notifications: 6, owedFloor: null, heldBackBy: false });
  expect(await streamSeqs()).toEqual([7, 8]);
  expect(await fixture.redis.zrange(fixture.keys.history, 0, -1)).toEqual(['7', '8']);
  expect(await fixture.redis.zrange(fixture.keys.topic('a'), 0, -1)).toEqual(['7', '8']);
  expect(await fixture.redis.zrange(fixture.keys.owed(3), 0, -1)).toEqual(['7', '8']);
  expect(await fixture.redis.zrange(fixture.keys.owedTopic(3, 'a'), 0, -1)).toEqual(['7', '8']);
  expect(await fixture.redis.zcard(fixture.keys.uncached)).toBe(0);
  expect(await fixture.redis.hlen(fixture.keys.dismissed)).toBe(0);
  expect(await fixture.redis.exists(fixture.keys.id('old-1'), fixture.keys.id('old-6'))).toBe(0);
  expect(await fixture.redis.exists(fixture.keys.id('fresh-1'))).toBe(1);
  const history = new RedisTopicHistory(fixture.redis, fixture.keys, sealer, 16);
  expect((await history.after(0, 0, ['a'], 10)).map((n) => n.id)).toEqual(['fresh-1', 'fresh-2']);
  expect(await retention.prune(cutoff)).toBe(0);
});

test('never a seq a live device still owes; a revoked device holds nothing back', async () => {
  const cutoff = await oldAndFresh();
  await addDevice(fixture.redis, fixture.keys, 'd1', 0);
  await fixture.redis.hset(fixture.keys.progress('d1'), { w3: '2', dc: '0' }); // acked 1..2 of priority 3
  await addDevice(fixture.redis, fixture.keys, 'gone', 0);
  await fixture.redis.hset(fixture.keys.device('gone'), { revokedAt: new Date().toISOString() });
  const retention = new RedisRetention(fixture.redis, fixture.keys, 500);
  expect(await retention.prune(cutoff)).toBe(2);
  expect(retention.last).toMatchObject({ owedFloor: 3, heldBackBy: true, dismissals: 0 });
  expect(await streamSeqs()).toEqual([3, 4, 5, 6, 7, 8]);
  // The device acks past the old ones (5 was dismissed: owed to nobody) and reads the dismissal.
  await fixture.redis.hset(fixture.keys.progress('d1'), { w3: '6', dc: '1' });
  expect(await retention.prune(cutoff)).toBe(4);
  expect(retention.last).toMatchObject({ owedFloor: 7, heldBackBy: false, dismissals: 1 });
  expect(await streamSeqs()).toEqual([7, 8]);
  expect(await fixture.redis.xlen(fixture.keys.dismissals)).toBe(0);
});

test('a device that has not read a dismissal keeps it', async () => {
  const cutoff = await oldAndFresh();
  await addDevice(fixture.redis, fixture.keys, 'd1', 8);
  const retention = new RedisRetention(fixture.redis, fixture.keys, 500);
  expect(await retention.prune(cutoff)).toBe(6);
  expect(retention.last).toMatchObject({ dismissals: 0 });
  expect(await fixture.redis.xlen(fixture.keys.dismissals)).toBe(1);
});

test('two nodes sweeping at once remove each entry once, batch by batch', async () => {
  const cutoff = await oldAndFresh();
  const removed = await Promise.all([new RedisRetention(fixture.redis, fixture.keys, 2).prune(cutoff), new RedisRetention(fixture.other, fixture.keys, 3).prune(cutoff)]);
  expect(removed[0] + removed[1]).toBe(6);
  expect(await streamSeqs()).toEqual([7, 8]);
  expect(await fixture.redis.zrange(fixture.keys.history, 0, -1)).toEqual(['7', '8']);
});

test('survives a redis-server restart: what was kept is still there and the next sweep goes on', async () => {
  const cutoff = await oldAndFresh();
  await addDevice(fixture.redis, fixture.keys, 'd1', 0);
  await fixture.redis.hset(fixture.keys.progress('d1'), { w3: '3' });
  await new RedisRetention(fixture.redis, fixture.keys, 500).prune(cutoff);
  await fixture.server.restart();
  await untilRedisAnswers(fixture.redis);
  expect(await streamSeqs()).toEqual([4, 5, 6, 7, 8]);
  await fixture.redis.hset(fixture.keys.progress('d1'), { w3: '8' });
  expect(await new RedisRetention(fixture.redis, fixture.keys, 500).prune(cutoff)).toBe(3);
});
