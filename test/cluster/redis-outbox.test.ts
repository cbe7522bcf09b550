import type Redis from 'ioredis';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { decodeEntry, entryJsonOf } from '../../app/cluster/stream-entry';
import type { StoredNotification } from '../../app/domain/notification';
import { input, realSealer, useRedis } from './fixtures';

// The outbox on a real Redis: one script per append (seq, stream entry `<seq>-0`, indexes), the
// client id claimed once even by two nodes at once, the stored text sealed and bound to the
// notification's id, afterCommit in seq order, and dismissals with their own counter.

const RETENTION_SEC = 7 * 86_400;
const fixture = useRedis();
const sealer = realSealer();

function outbox(on: Redis = fixture.redis): RedisOutbox {
  return new RedisOutbox(on, fixture.keys, sealer, RETENTION_SEC);
}

const noop = () => undefined;

test('an append: seq, a sealed stream entry <seq>-0, the client id claimed for the retention', async () => {
  const { notification, duplicate } = await outbox().append(input({ priority: 4, topic: 'alerts' }), 'n-1', noop);
  expect(duplicate).toBe(false);
  expect(notification).toMatchObject({ seq: 1, id: 'n-1', title: 'Disk full', priority: 4, topic: 'alerts', dismissedAt: null });
  const entries = await fixture.redis.xrange(fixture.keys.outbox, '-', '+');
  expect(entries.map(([id]) => id)).toEqual(['1-0']);
  const json = entryJsonOf(entries[0][1]);
  expect(json).not.toContain('Disk full');
  expect(json).not.toContain('sda1');
  expect(decodeEntry(sealer, 1, json)).toEqual(notification);
  expect(await fixture.redis.get(fixture.keys.id('n-1'))).toBe('1');
  const ttl = await fixture.redis.ttl(fixture.keys.id('n-1'));
  expect(ttl).toBeGreaterThan(RETENTION_SEC - 60);
  expect(ttl).toBeLessThanOrEqual(RETENTION_SEC);
  expect(await outbox().has('n-1')).toBe(true);
  expect(await outbox().has('n-2')).toBe(false);
});

test('the seal is bound to the notification id: moved to another entry it does not open', async () => {
  await outbox().append(input(), 'n-1', noop);
  const json = JSON.parse(entryJsonOf((await fixture.redis.xrange(fixture.keys.outbox, '-', '+'))[0][1]));
  expect(() => decodeEntry(sealer, 1, JSON.stringify({ ...json, id: 'n-other' }))).toThrow();
});

test('a duplicate client id answers the stored notification, even from two nodes at once', async () => {
  const other = await fixture.conn.duplicate();
  const [a, b] = await Promise.all([outbox().append(input({ title: 'first' }), 'same', noop), outbox(other).append(input({ title: 'second' }), 'same', noop)]);
  expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
  const winner = a.duplicate ? b : a;
  const copy = a.duplicate ? a : b;
  expect(copy.notification).toEqual(winner.notification);
  expect(await fixture.redis.xlen(fixture.keys.outbox)).toBe(1);
  expect(await fixture.redis.get(fixture.keys.seq)).toBe('1');
  await outbox().dismiss('same', null);
  const later = await outbox().append(input(), 'same', noop);
  expect(later).toMatchObject({ duplicate: true, notification: { seq: 1, dismissedAt: expect.any(String) } });
});

test('afterCommit runs after the reply, once per append, in seq order', async () => {
  const told: { seq: number; duplicate: boolean }[] = [];
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) => outbox().append(input({ priority: ((i % 5) + 1) as 1 }), `n-${i % 50}`, ({ notification, duplicate }) => told.push({ seq: notification.seq, duplicate }))),
  );
  expect(told).toHaveLength(60);
  const fresh = told.filter((t) => !t.duplicate).map((t) => t.seq);
  expect(fresh).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(results.filter((r) => r.duplicate)).toHaveLength(10);
});

test('indexes: owed per priority (and per topic), history and topic; Cache: no kept out of histories', async () => {
  const o = outbox();
  await o.append(input({ priority: 5 }), 'a', noop); // 1
  await o.append(input({ priority: 5, topic: 'chat' }), 'b', noop); // 2
  await o.append(input({ priority: 3, uncached: true, owedTo: ['phone-1'] }), 'c', noop); // 3
  await o.append(input({ priority: 3, topic: 'chat', uncached: true, owedTo: [] }), 'd', noop); // 4: owed to nobody
  const members = (key: string) => fixture.redis.zrange(key, 0, -1);
  expect(await members(fixture.keys.owed(5))).toEqual(['1', '2']);
  expect(await members(fixture.keys.owedUntopiced(5))).toEqual(['1']);
  expect(await members(fixture.keys.owedTopic(5, 'chat'))).toEqual(['2']);
  expect(await members(fixture.keys.owed(3))).toEqual(['3']);
  expect(await members(fixture.keys.uncached)).toEqual(['3']);
  expect(await members(fixture.keys.history)).toEqual(['1', '2']);
  expect(await members(fixture.keys.topic('chat'))).toEqual(['2']);
  expect(await fixture.redis.xlen(fixture.keys.outbox)).toBe(4); // every node's live subscribers still read it
  const uncached = decodeEntry(sealer, 3, entryJsonOf((await fixture.redis.xrange(fixture.keys.outbox, '3-0', '3-0'))[0][1]));
  expect(uncached).toMatchObject({ uncached: true, owedTo: ['phone-1'] });
});

test('an update supersedes what it replaces: no longer owed, no dismissal told', async () => {
  const o = outbox();
  await o.append(input({ priority: 4 }), 'old', noop);
  await o.append(input({ priority: 4, replaces: 'old' }), 'new', noop);
  expect(await fixture.redis.zrange(fixture.keys.owed(4), 0, -1)).toEqual(['2']);
  expect(await fixture.redis.hget(fixture.keys.dismissed, '1')).toEqual(expect.any(String));
  expect(await fixture.redis.xlen(fixture.keys.dismissals)).toBe(0);
});

test('dismiss: once, with its own counter; unindexed; unknown or repeated answers null', async () => {
  const o = outbox();
  await o.append(input({ topic: 'chat' }), 'a', noop);
  await o.append(input(), 'b', noop);
  const told: unknown[] = [];
  expect(await o.dismiss('b', 'phone-1', (r) => told.push(r))).toEqual({ seq: 2, dismissalSeq: 1 });
  expect(await o.dismiss('a', null)).toEqual({ seq: 1, dismissalSeq: 2 });
  expect(await o.dismiss('a', null, (r) => told.push(r))).toBeNull();
  expect(await o.dismiss('nobody', null)).toBeNull();
  expect(told).toEqual([{ seq: 2, dismissalSeq: 1 }, null]);
  expect(await fixture.redis.zcard(fixture.keys.owed(3))).toBe(0);
  expect(await fixture.redis.zcard(fixture.keys.owedTopic(3, 'chat'))).toBe(0);
  const dismissals = await fixture.redis.xrange(fixture.keys.dismissals, '-', '+');
  expect(dismissals.map(([id, f]) => [id, f[1], f[3]])).toEqual([['1-0', 'b', 'phone-1'], ['2-0', 'a', '']]);
  const stillStored: StoredNotification = (await o.append(input(), 'a', noop)).notification;
  expect(stillStored.dismissedAt).not.toBeNull();
});
