import { RedisNotificationHistory } from '../../app/cluster/redis-notification-history';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { RedisTopicHistory } from '../../app/cluster/redis-topic-history';
import { input, realSealer, useRedis } from './fixtures';
import { clockPast, untilRedisAnswers } from './wait';

// ntfy since= (all, an id, a time), Gotify paging by id per application with dismissals taken
// off its lists, and the admin history, read from the indexes the outbox script writes; a page
// is read a bounded step at a time and never loads a whole topic.

const fixture = useRedis({ config: { appendfsync: 'always' } });
const sealer = realSealer();
const STEP = 16;

const outbox = () => new RedisOutbox(fixture.redis, fixture.keys, sealer, 86_400);
const topics = () => new RedisTopicHistory(fixture.redis, fixture.keys, sealer, STEP);
const admin = () => new RedisNotificationHistory(fixture.redis, fixture.keys, sealer, STEP);
const noop = () => undefined;

async function post(id: string, over: Parameters<typeof input>[0] = {}) {
  return (await outbox().append(input({ title: `t-${id}`, ...over }), id, noop)).notification;
}

test('ntfy since=all, since=<id> and since=<time>: oldest first, topic filtered, Cache: no never listed', async () => {
  await post('a1', { topic: 'a' });
  await post('b1', { topic: 'b' });
  await post('u1');
  await post('hidden', { topic: 'a', owedTo: ['d1'] });
  const first = await post('a2', { topic: 'a' });
  await clockPast(Date.parse(first.createdAt));
  const late = await post('b2', { topic: 'b' });
  const h = topics();
  expect((await h.after(0, 0, ['a'], 100)).map((n) => n.id)).toEqual(['a1', 'a2']);
  expect((await h.after(0, 0, ['a', 'b'], 100)).map((n) => n.id)).toEqual(['a1', 'b1', 'a2', 'b2']);
  expect((await h.after(0, 0, null, 100)).map((n) => n.id)).toEqual(['a1', 'b1', 'u1', 'a2', 'b2']);
  expect(await h.seqOf('b1')).toBe(2);
  expect(await h.seqOf('nope')).toBeUndefined();
  expect((await h.after((await h.seqOf('b1'))!, 0, ['a', 'b'], 100)).map((n) => n.id)).toEqual(['a2', 'b2']);
  expect((await h.after(0, Date.parse(late.createdAt), ['a', 'b'], 100)).map((n) => n.id)).toEqual(['b2']);
  expect((await h.after(0, 0, ['a', 'b'], 3)).map((n) => n.id)).toEqual(['a1', 'b1', 'a2']);
  const [opened] = await h.after(0, 0, ['a'], 1);
  expect(opened).toMatchObject({ seq: 1, id: 'a1', title: 't-a1', body: 'sda1 at 99%', topic: 'a', dismissedAt: null });
});

test('Gotify: newest first below an id, per application, dismissed ones off the lists, listedAt', async () => {
  await post('m1', { tokenId: 1 });
  await post('m2', { tokenId: 2, topic: 'x' });
  await post('m3', { tokenId: 1, topic: 'x' });
  await post('m4', { tokenId: 1 });
  await post('m5', { tokenId: 2, owedTo: [] });
  await outbox().dismiss('m4', null);
  const h = topics();
  expect((await h.before(Number.MAX_SAFE_INTEGER, null, 10)).map((n) => n.id)).toEqual(['m4', 'm3', 'm2', 'm1']);
  expect((await h.before(Number.MAX_SAFE_INTEGER, null, 10, 1)).map((n) => n.id)).toEqual(['m4', 'm3', 'm1']);
  expect((await h.before(3, null, 10, 1)).map((n) => n.id)).toEqual(['m1']);
  expect((await h.listed(Number.MAX_SAFE_INTEGER, null, 10, null)).map((n) => n.id)).toEqual(['m3', 'm2', 'm1']);
  expect((await h.listed(Number.MAX_SAFE_INTEGER, null, 10, 1)).map((n) => n.id)).toEqual(['m3', 'm1']);
  expect((await h.listed(Number.MAX_SAFE_INTEGER, null, 1, 1)).map((n) => n.id)).toEqual(['m3']);
  expect(await h.listedIds(Number.MAX_SAFE_INTEGER, ['x'], 10, null)).toEqual([
    { id: 'm3', seq: 3 },
    { id: 'm2', seq: 2 },
  ]);
  expect(await h.listedAt(3, ['x'])).toBe('m3');
  expect(await h.listedAt(3, null)).toBe('m3');
  expect(await h.listedAt(1, ['x'])).toBeUndefined(); // another topic (untopiced)
  expect(await h.listedAt(4, null)).toBeUndefined(); // dismissed
  expect(await h.listedAt(5, null)).toBeUndefined(); // Cache: no
  expect(await h.listedAt(99, null)).toBeUndefined();
  const [dismissed] = await h.before(5, null, 1);
  expect(dismissed.dismissedAt).toEqual(expect.any(String));
});

test('the admin history: newest first, paged before an id; an unknown id gives nothing; findById', async () => {
  for (let i = 1; i <= 7; i++) await post(`n${i}`, { topic: i % 2 ? 'odd' : null });
  await outbox().dismiss('n6', 'phone');
  const h = admin();
  const page1 = await h.history(3, null);
  expect(page1.map((n) => n.id)).toEqual(['n7', 'n6', 'n5']);
  expect(page1[1].dismissedAt).toEqual(expect.any(String));
  expect((await h.history(3, 'n5')).map((n) => n.id)).toEqual(['n4', 'n3', 'n2']);
  expect((await h.history(3, 'n2')).map((n) => n.id)).toEqual(['n1']);
  expect(await h.history(3, 'unknown')).toEqual([]);
  expect(await h.findById('n3')).toMatchObject({ seq: 3, id: 'n3', title: 't-n3' });
  expect(await h.findById('unknown')).toBeUndefined();
});

test('a page never holds more than its bound, and Redis is asked a bounded step at a time', async () => {
  const many = 600;
  for (let i = 1; i <= many; i++) await post(`p${i}`, { topic: 'big', tokenId: i === 3 ? 9 : 1 });
  const monitor = await fixture.redis.monitor();
  const commands: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => commands.push(args));
  try {
    const h = topics();
    expect(await h.after(0, 0, ['big'], 10)).toHaveLength(10);
    expect(await h.before(Number.MAX_SAFE_INTEGER, null, 25)).toHaveLength(25);
    // A rare application: the scan walks the whole topic, still one bounded step at a time.
    expect((await h.listed(Number.MAX_SAFE_INTEGER, ['big'], 5, 9)).map((n) => n.id)).toEqual(['p3']);
    await fixture.redis.ping(); // the sentinel: every command above was seen by MONITOR before this one
    const deadline = Date.now() + 10_000;
    while (!commands.some((c) => c[0].toLowerCase() === 'ping') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  } finally {
    monitor.disconnect();
  }
  const ranges = commands.filter((c) => /^z(rev)?rangebyscore$/i.test(c[0]));
  expect(ranges.length).toBeGreaterThan(many / STEP - 1);
  for (const c of ranges) expect(Number(c[c.length - 1])).toBeLessThanOrEqual(STEP);
  for (const c of commands.filter((c) => /^xrange$/i.test(c[0]))) expect(c[2]).toBe(c[3]); // one entry per XRANGE
  expect(commands.some((c) => /^(zrange|xrange|xrevrange)$/i.test(c[0]) && c.includes('-') && c.includes('+'))).toBe(false);
});

test('survives a redis-server restart: the same pages after it', async () => {
  for (let i = 1; i <= 5; i++) await post(`r${i}`, { topic: 'r' });
  const before = (await topics().after(0, 0, ['r'], 10)).map((n) => n.id);
  await fixture.server.restart();
  await untilRedisAnswers(fixture.redis);
  expect((await topics().after(0, 0, ['r'], 10)).map((n) => n.id)).toEqual(before);
  expect((await admin().history(2, 'r3')).map((n) => n.id)).toEqual(['r2', 'r1']);
});
