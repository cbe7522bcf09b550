import type Redis from 'ioredis';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { RedisScheduleStore } from '../../app/cluster/redis-schedule-store';
import type { NotificationInput } from '../../app/domain/notification';
import { Scheduler, type ScheduleClock } from '../../app/schedule/scheduler';
import { realSealer, useRedis } from './fixtures';
import { untilRedisAnswers } from './wait';

// Scheduled notifications shared by the nodes: the SQLite store's cases (sealed under the row's
// associated data, due order, a second add of an id keeps the first, removed once, an unreadable
// one dropped and reported), plus the cluster's: a due entry is claimed by exactly one node, two
// nodes' schedulers append it once, a node killed between claim and append (or between append and
// remove) leaves it to another node after the claim expires, still once; it survives a restart.

const fixture = useRedis({ config: { appendfsync: 'always' } });
const sealer = realSealer();

const input = (title: string, tokenId = 7): NotificationInput => ({ title, body: 'b', app: 'a', priority: 3, tags: [], url: null, topic: 't', source: 'ntfy', tokenId });
const store = (on: Redis = fixture.redis, node = 'a', claimMs = 60_000) => new RedisScheduleStore(on, fixture.keys, sealer, node, claimMs);

test('sealed with the row\'s associated data; read by due time, earliest first; removed once', async () => {
  const s = store();
  await s.add({ id: 'late', dueMs: 3000, createdMs: 1, input: input('late') });
  await s.add({ id: 'early', dueMs: 1000, createdMs: 1, input: input('early') });
  await s.add({ id: 'early', dueMs: 9999, createdMs: 1, input: input('again') }); // same id: kept as first stored
  const stored = JSON.parse((await fixture.redis.hget(fixture.keys.scheduledEntries, 'early'))!);
  expect(stored).toMatchObject({ dueMs: 1000, tokenId: 7 });
  expect(stored.sealed).not.toContain('early');
  expect(sealer.open(stored.sealed, 'scheduled:early')).toContain('"title":"early"');
  expect(await s.nextDueMs()).toBe(1000);
  expect((await s.due(2000, 10)).map((e) => [e.id, e.input.title])).toEqual([['early', 'early']]);
  expect(await s.remove('early')).toBe(true);
  expect(await s.remove('early')).toBe(false);
  expect((await s.list(10)).map((e) => e.id)).toEqual(['late']);
  expect(await s.nextDueMs()).toBe(3000);
});

test('a row whose seal does not open is dropped and reported; the rest still goes', async () => {
  const s = store();
  await s.add({ id: 'good', dueMs: 2000, createdMs: 1, input: input('good') });
  await s.add({ id: 'moved', dueMs: 1000, createdMs: 1, input: input('moved') });
  const good = await fixture.redis.hget(fixture.keys.scheduledEntries, 'good');
  await fixture.redis.hset(fixture.keys.scheduledEntries, 'moved', good!); // a seal copied from another entry does not open here
  expect((await s.list(10)).map((e) => e.id)).toEqual(['good']);
  await expect(s.due(5000, 10)).rejects.toThrow(/could not be opened were dropped: moved/);
  expect(await fixture.redis.hexists(fixture.keys.scheduledEntries, 'moved')).toBe(0);
  expect((await s.list(10)).map((e) => e.id)).toEqual(['good']);
});

test('removeByToken drops what the token scheduled, whoever claimed it; list is bounded', async () => {
  const s = store();
  for (let i = 0; i < 5; i++) await s.add({ id: `k${i}`, dueMs: 1000 + i, createdMs: 1, input: input(`k${i}`, i < 3 ? 1 : 2) });
  await store(fixture.other, 'b').due(1000, 1); // k0 claimed by another node
  expect(await s.remove('k0')).toBe(false); // being sent there: too late to cancel
  expect((await s.list(2)).map((e) => e.id)).toEqual(['k0', 'k1']);
  expect(await s.removeByToken(1)).toBe(3);
  expect((await s.list(10)).map((e) => e.id)).toEqual(['k3', 'k4']);
  expect(await fixture.redis.exists(fixture.keys.scheduledByToken(1), fixture.keys.scheduledClaim('k0'))).toBe(0);
});

test('two nodes asking at once: every due entry is claimed by exactly one of them', async () => {
  const a = store(fixture.redis, 'a');
  const b = store(fixture.other, 'b');
  for (let i = 0; i < 200; i++) await a.add({ id: `d${i}`, dueMs: 1000, createdMs: 1, input: input(`d${i}`) });
  const got: string[][] = [[], []];
  await Promise.all(
    [a, b].map(async (s, n) => {
      for (;;) {
        const page = await s.due(5000, 7);
        if (page.length === 0) return;
        got[n].push(...page.map((e) => e.id));
        for (const e of page) expect(await s.remove(e.id)).toBe(true); // handed on, as the scheduler does
      }
    }),
  );
  expect(got[0].length + got[1].length).toBe(200);
  expect(new Set([...got[0], ...got[1]]).size).toBe(200);
  expect(await fixture.redis.zcard(fixture.keys.scheduledOrder)).toBe(0);
});

/** A scheduler on real time whose release appends through the shared outbox. */
function node(on: Redis, name: string, released: string[], claimMs = 60_000) {
  const outbox = new RedisOutbox(on, fixture.keys, sealer, 86_400);
  const s = store(on, name, claimMs);
  const clock: ScheduleClock = { now: Date.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  // Every append a node makes is counted, duplicates too: the claim alone keeps it to one.
  const scheduler = new Scheduler(s, (i) => outbox.append(i, i.id!, () => undefined).then(({ duplicate }) => released.push(`${name}:${i.id}${duplicate ? ':duplicate' : ''}`)), clock, { retryMs: 50, page: 10 });
  return { s, scheduler, outbox };
}

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('two nodes racing for due notifications: each is appended once', async () => {
  const released: string[] = [];
  const a = node(fixture.redis, 'a', released);
  const b = node(fixture.other, 'b', released);
  const due = Date.now() + 200;
  for (let i = 0; i < 30; i++) await (i % 2 ? a : b).s.add({ id: `r${i}`, dueMs: due, createdMs: 1, input: input(`r${i}`) });
  await Promise.all([a.scheduler.start(), b.scheduler.start()]);
  await until(async () => (await fixture.redis.zcard(fixture.keys.scheduledOrder)) === 0);
  await Promise.all([a.scheduler.stop(), b.scheduler.stop()]);
  expect(await fixture.redis.xlen(fixture.keys.outbox)).toBe(30);
  expect(released).toHaveLength(30);
  expect(new Set(released.map((r) => r.split(':')[1])).size).toBe(30);
});

test('a node killed between claim and append, or between append and remove: another node sends it, once', async () => {
  const claimMs = 300;
  const dead = store(fixture.redis, 'dead', claimMs);
  await dead.add({ id: 'before-append', dueMs: 1000, createdMs: 1, input: input('x') });
  await dead.add({ id: 'after-append', dueMs: 1000, createdMs: 1, input: input('y') });
  const claimed = await dead.due(5000, 10);
  expect(claimed.map((e) => e.id)).toEqual(['after-append', 'before-append']);
  // It appended one of them, then died before removing either.
  await new RedisOutbox(fixture.redis, fixture.keys, sealer, 86_400).append({ ...claimed[0].input, id: 'after-append' }, 'after-append', () => undefined);
  const released: string[] = [];
  const b = node(fixture.other, 'b', released, claimMs);
  expect(await b.s.due(Date.now(), 10)).toEqual([]); // the claim still holds: nobody else takes them
  await b.scheduler.start();
  await until(async () => (await fixture.redis.zcard(fixture.keys.scheduledOrder)) === 0);
  await b.scheduler.stop();
  expect(released.sort()).toEqual(['b:after-append:duplicate', 'b:before-append']); // the outbox stored after-append once
  const ids = (await fixture.redis.xrange(fixture.keys.outbox, '-', '+')).map(([, f]) => JSON.parse(f[5]).id);
  expect(ids.sort()).toEqual(['after-append', 'before-append']);
});

test('a release that failed is taken again by the same node at its retry, not when its claim ends', async () => {
  const s = store(fixture.redis, 'a', 600_000);
  const outbox = new RedisOutbox(fixture.redis, fixture.keys, sealer, 86_400);
  let failures = 1;
  const errors: string[] = [];
  const clock: ScheduleClock = { now: Date.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  const scheduler = new Scheduler(
    s,
    async (i) => {
      if (failures-- > 0) throw new Error('ingest busy');
      await outbox.append(i, i.id!, () => undefined);
    },
    clock,
    { retryMs: 50, page: 10, onError: (e) => errors.push(String(e)) },
  );
  await s.add({ id: 'flaky', dueMs: Date.now(), createdMs: 1, input: input('flaky') });
  await scheduler.start();
  await until(async () => (await fixture.redis.zcard(fixture.keys.scheduledOrder)) === 0);
  await scheduler.stop();
  expect(errors).toEqual(['Error: ingest busy']);
  expect(await fixture.redis.xlen(fixture.keys.outbox)).toBe(1);
});

test('survives a redis-server restart', async () => {
  const s = store();
  await s.add({ id: 'kept', dueMs: 4242, createdMs: 1, input: input('kept') });
  await fixture.server.restart();
  await untilRedisAnswers(fixture.redis);
  expect(await s.nextDueMs()).toBe(4242);
  expect((await s.due(5000, 10)).map((e) => e.input.title)).toEqual(['kept']);
});
