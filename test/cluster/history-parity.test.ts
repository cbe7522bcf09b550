import Database from 'better-sqlite3';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedisNotificationHistory } from '../../app/cluster/redis-notification-history';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { RedisTopicHistory } from '../../app/cluster/redis-topic-history';
import type { GotifyMessages, SubscriberHistory } from '../../app/compat/ports';
import type { StoredNotification } from '../../app/domain/notification';
import type { Priority } from '../../app/domain/priority';
import type { HistorySource } from '../../app/http/routes/notification-routes';
import { migrate } from '../../app/store/database';
import { GroupWriter } from '../../app/store/group-writer';
import { NotificationHistory } from '../../app/store/notification-history';
import { NotificationRepository } from '../../app/store/notification-repository';
import { ReadPool } from '../../app/store/read-pool';
import { SqliteOutbox } from '../../app/store/sqlite-outbox';
import { TopicHistory } from '../../app/store/topic-history';
import { addDevice, input, realSealer, useRedis } from './fixtures';

// The Redis history readers answer exactly what the SQLite ones do: the same notifications
// (random priorities, topics, publishing tokens, dismissals, replacements and `Cache: no`)
// appended through each outbox, then the same ntfy since= pages, Gotify pages and listings,
// listedAt and the admin history, for random bounds, topic filters, tokens and limits. A small
// scan step makes every multi-step path run (fast-check; a failure prints the smallest case).

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'app', 'store', 'read-worker.js');
const sealer = realSealer();
const noop = () => undefined;
const TOPICS = [null, 'a', 'b'] as const;

const fixture = useRedis({ flush: false });

interface Note {
  topic: (typeof TOPICS)[number];
  tokenId: number | null;
  dismissed: boolean;
  replaces: number | null;
  uncached: boolean;
}

interface Query {
  bound: number;
  topics: string[] | null;
  limit: number;
  tokenId: number | null;
  before: number | null;
}

const noteArb: fc.Arbitrary<Note> = fc.record({
  topic: fc.constantFrom(...TOPICS),
  tokenId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  dismissed: fc.boolean(),
  replaces: fc.option(fc.integer({ min: 1, max: 25 }), { nil: null, freq: 5 }),
  uncached: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
});
const queryArb: fc.Arbitrary<Query> = fc.record({
  bound: fc.integer({ min: 0, max: 27 }),
  topics: fc.option(fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }), { nil: null }),
  limit: fc.integer({ min: 1, max: 9 }),
  tokenId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  before: fc.option(fc.integer({ min: 1, max: 27 }), { nil: null }),
});

type Readers = { topics: SubscriberHistory & GotifyMessages; admin: HistorySource };

/** A fresh SQLite store (its own file) with a device 'd' (the one `Cache: no` notifications are owed to). */
function sqlite() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-history-parity-')), 'beep.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  const writer = new GroupWriter(db, { maxOps: 100, windowMs: 0, lockWaitMs: 3_000, maxQueued: 1_000 });
  const pool = new ReadPool({ file, size: 1, idleMs: 0, workerFile: WORKER });
  db.prepare("INSERT INTO devices (id, name, platform, paired_at, paired_seq) VALUES ('d', 'n', 'test', 'x', 0)").run();
  const repo = new NotificationRepository(db, pool, sealer);
  const readers: Readers = { topics: new TopicHistory(pool, sealer, repo), admin: new NotificationHistory(repo) };
  return {
    outbox: new SqliteOutbox(writer, repo),
    readers,
    close: async () => {
      await pool.close();
      db.close();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    },
  };
}

const shown = (list: StoredNotification[]) => list.map((n) => [n.seq, n.id, n.title, n.topic, n.tokenId, n.dismissedAt !== null]);

/** What the readers answer for one query, in comparable form. */
async function answers(r: Readers, q: Query): Promise<unknown> {
  const below = q.bound === 0 ? Number.MAX_SAFE_INTEGER : q.bound;
  return {
    after: shown(await r.topics.after(q.bound, 0, q.topics, q.limit)),
    before: shown(await r.topics.before(below, q.topics, q.limit, q.tokenId)),
    listed: shown(await r.topics.listed(below, q.topics, q.limit, q.tokenId)),
    listedIds: await r.topics.listedIds(below, q.topics, q.limit, q.tokenId),
    listedAt: await r.topics.listedAt(q.bound, q.topics),
    seqOf: await r.topics.seqOf(`n${q.bound}`),
    admin: shown(await r.admin.history(q.limit, q.before === null ? null : `n${q.before}`)),
  };
}

test('ntfy and Gotify reads and the admin history: Redis answers what SQLite answers', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(noteArb, { maxLength: 25 }), fc.array(queryArb, { minLength: 1, maxLength: 4 }), async (notes, queries) => {
      await fixture.redis.flushall();
      await addDevice(fixture.redis, fixture.keys, 'd', 0);
      const redis = {
        outbox: new RedisOutbox(fixture.redis, fixture.keys, sealer, 3_600),
        readers: { topics: new RedisTopicHistory(fixture.redis, fixture.keys, sealer, 2), admin: new RedisNotificationHistory(fixture.redis, fixture.keys, sealer, 2) },
      };
      const lite = sqlite();
      try {
        for (const side of [lite, redis]) {
          for (const [i, n] of notes.entries()) {
            const note = input({ title: `t${i}`, priority: ((i % 5) + 1) as Priority, topic: n.topic, tokenId: n.tokenId, replaces: n.replaces !== null ? `n${n.replaces}` : null, ...(n.uncached ? { owedTo: ['d'] } : {}) });
            await side.outbox.append(note, `n${i + 1}`, noop);
          }
          for (const [i, n] of notes.entries()) if (n.dismissed) await side.outbox.dismiss(`n${i + 1}`, null);
        }
        for (const q of queries) expect(await answers(redis.readers, q)).toEqual(await answers(lite.readers, q));
      } finally {
        await lite.close();
      }
    }),
    { numRuns: 40 },
  );
});
