import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { BeepError } from '../../app/domain/errors';
import { IngestService } from '../../app/ingest/ingest-service';
import { RedisServer } from '../helpers/redis-server';
import { connectTo, input, realSealer } from './fixtures';

// When Redis cannot take a write the outbox says so the way the SQLite one does (a CommitError),
// so ingest answers 503 not_accepted and nothing half-written remains: out of memory under
// noeviction, and Redis gone (a post fails instead of hanging). With `appendfsync always`, every
// append that was answered survives a kill -9 of redis-server.

const sealer = realSealer();
const noop = () => undefined;

test('out of memory (noeviction): CommitError, ingest answers 503 not_accepted, nothing written', async () => {
  const server = await RedisServer.start();
  const { conn, keys } = await connectTo(server);
  try {
    const outbox = new RedisOutbox(conn.redis, keys, sealer, 3_600);
    await outbox.append(input(), 'before', noop);
    const memory = Number(/used_memory:(\d+)/.exec(await conn.redis.info('memory'))?.[1]);
    await conn.redis.config('SET', 'maxmemory', String(Math.max(1, memory - 100_000)));
    const told: unknown[] = [];
    await expect(outbox.append(input(), 'refused', (o) => told.push(o))).rejects.toMatchObject({ name: 'CommitError', message: expect.stringMatching(/OOM/) });
    expect(told).toEqual([]);
    const ingest = new IngestService(outbox, noop);
    const refused = await ingest.submit({ title: 'x', body: 'y', id: 'via-ingest' }, 'http').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BeepError);
    expect(refused).toMatchObject({ code: 'not_accepted', status: 503 });
    expect(await conn.redis.get(keys.seq)).toBe('1');
    expect(await conn.redis.xlen(keys.outbox)).toBe(1);
    expect(await conn.redis.exists(keys.id('refused'), keys.id('via-ingest'))).toBe(0);
    // A retry of what was stored still answers (a read first, no write needed).
    expect(await outbox.append(input(), 'before', noop)).toMatchObject({ duplicate: true, notification: { seq: 1 } });
    await conn.redis.config('SET', 'maxmemory', '0');
    expect(await outbox.append(input(), 'refused', noop)).toMatchObject({ duplicate: false, notification: { seq: 2 } });
  } finally {
    await conn.close();
    await server.stop();
  }
});

test('Redis down: an append fails with CommitError instead of waiting; appendfsync always keeps every answered append across kill -9', async () => {
  const server = await RedisServer.start({ config: { appendfsync: 'always' } });
  const { conn, keys } = await connectTo(server);
  try {
    const outbox = new RedisOutbox(conn.redis, keys, sealer, 3_600);
    const answered: number[] = [];
    const failed: string[] = [];
    // Ten senders post until Redis is gone: the kill lands in the middle of the burst.
    let next = 0;
    const sender = async () => {
      while (failed.length === 0) {
        await outbox.append(input(), `n-${next++}`, noop).then(
          (o) => answered.push(o.notification.seq),
          (e: Error) => failed.push(e.name),
        );
      }
    };
    const senders = Array.from({ length: 10 }, sender);
    while (answered.length < 100) await new Promise((r) => setTimeout(r, 5));
    await server.kill9();
    await Promise.all(senders);
    expect(new Set(failed)).toEqual(new Set(['CommitError']));
    await expect(outbox.append(input(), 'while-down', noop)).rejects.toMatchObject({ name: 'CommitError' });
    await server.restart();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await conn.redis.ping().catch(() => null)) !== 'PONG') await new Promise((r) => setTimeout(r, 100));
    const stored = new Set((await conn.redis.xrange(keys.outbox, '-', '+')).map(([id]) => Number.parseInt(id, 10)));
    for (const seq of answered) expect(stored.has(seq)).toBe(true);
    expect(await outbox.append(input(), 'after', noop)).toMatchObject({ duplicate: false });
  } finally {
    await conn.close();
    await server.stop();
  }
});
