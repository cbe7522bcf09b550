import { OutboxReader } from '../../app/cluster/outbox-reader';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import type { StoredNotification } from '../../app/domain/notification';
import { input, realSealer, useRedis } from './fixtures';

// Every node reads the whole outbox stream: two readers (two nodes) each see every entry, in
// seq order, opened; a reader started from a seq sees only what is above it; stop() ends a
// blocked read at once; a read that fails while Redis is away resumes where it stopped.

const fixture = useRedis({ config: { appendfsync: 'always' }, flush: false });
const sealer = realSealer();
const noop = () => undefined;
const OPTIONS = { blockMs: 1_000, count: 16, retryMs: 50 };

/** Reads until `n` notifications arrived (or the deadline), then stops the reader. */
async function collect(reader: OutboxReader, afterSeq: number, n: number): Promise<StoredNotification[]> {
  const got: StoredNotification[] = [];
  const deadline = setTimeout(() => reader.stop(), 20_000);
  for await (const notification of reader.read(afterSeq)) {
    got.push(notification);
    if (got.length === n) reader.stop();
  }
  clearTimeout(deadline);
  return got;
}

test('two nodes appending at once: two readers each see every entry, in seq order, no gap; a reader from a seq sees only what is above it', async () => {
  await fixture.redis.flushall();
  // Two nodes append at once, each on its own connection.
  const outboxes = [new RedisOutbox(fixture.redis, fixture.keys, sealer, 3_600), new RedisOutbox(await fixture.conn.duplicate(), fixture.keys, sealer, 3_600)];
  const a = new OutboxReader(await fixture.conn.duplicate(3_000), fixture.keys, sealer, OPTIONS);
  const b = new OutboxReader(await fixture.conn.duplicate(3_000), fixture.keys, sealer, OPTIONS);
  const late = new OutboxReader(await fixture.conn.duplicate(3_000), fixture.keys, sealer, OPTIONS);
  const readA = collect(a, 0, 100);
  const readB = collect(b, 0, 100);
  const readLate = collect(late, 60, 40);
  await Promise.all(Array.from({ length: 100 }, (_, i) => outboxes[i % 2].append(input({ title: `t${i}`, priority: ((i % 5) + 1) as 1 }), `n${i}`, noop)));
  const seqs = Array.from({ length: 100 }, (_, i) => i + 1);
  const [gotA, gotB, gotLate] = await Promise.all([readA, readB, readLate]);
  expect(gotA.map((n) => n.seq)).toEqual(seqs);
  expect(gotB.map((n) => n.seq)).toEqual(seqs);
  expect(gotLate.map((n) => n.seq)).toEqual(seqs.slice(60));
  expect(gotA[0]).toMatchObject({ id: expect.stringMatching(/^n\d+$/), title: expect.stringMatching(/^t\d+$/), body: 'sda1 at 99%', dismissedAt: null });
});

test('stop() ends a read blocked on an empty stream', async () => {
  await fixture.redis.flushall();
  const reader = new OutboxReader(await fixture.conn.duplicate(3_000), fixture.keys, sealer, { ...OPTIONS, blockMs: 0 }); // 0 = block for ever
  const done = (async () => {
    for await (const _ of reader.read(0)) throw new Error('nothing was appended');
  })();
  await new Promise((r) => setTimeout(r, 100));
  reader.stop();
  await expect(done).resolves.toBeUndefined();
});

test('Redis away: the reader reports the failed reads and resumes after the last seq it yielded', async () => {
  await fixture.redis.flushall();
  const outbox = new RedisOutbox(fixture.redis, fixture.keys, sealer, 3_600);
  for (let i = 1; i <= 3; i++) await outbox.append(input(), `before-${i}`, noop);
  const errors: string[] = [];
  const reader = new OutboxReader(await fixture.conn.duplicate(3_000), fixture.keys, sealer, { ...OPTIONS, onError: (_e, context) => errors.push(context) });
  const got: number[] = [];
  const reading = (async () => {
    for await (const n of reader.read(0)) {
      got.push(n.seq);
      if (got.length === 6) reader.stop();
    }
  })();
  while (got.length < 3) await new Promise((r) => setTimeout(r, 10));
  await fixture.server.kill9();
  while (errors.length === 0) await new Promise((r) => setTimeout(r, 10));
  await fixture.server.restart();
  const deadline = Date.now() + 20_000;
  let appended = 0;
  while (appended < 3 && Date.now() < deadline) {
    await outbox.append(input(), `after-${appended}`, noop).then(() => appended++, () => new Promise((r) => setTimeout(r, 100)));
  }
  await reading;
  expect(got).toEqual([1, 2, 3, 4, 5, 6]);
  expect(errors[0]).toBe('outbox read');
});
