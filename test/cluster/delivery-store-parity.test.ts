import Database from 'better-sqlite3';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceLeases } from '../../app/cluster/device-leases';
import { RedisDeliveryStore } from '../../app/cluster/redis-delivery-store';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import type { DeliveryStore, StoredProgress } from '../../app/delivery/ports';
import type { Priority } from '../../app/domain/priority';
import { migrate } from '../../app/store/database';
import { SqliteDeliveryStore } from '../../app/store/delivery-store';
import { GroupWriter } from '../../app/store/group-writer';
import { NotificationRepository } from '../../app/store/notification-repository';
import { ReadPool } from '../../app/store/read-pool';
import { SqliteOutbox } from '../../app/store/sqlite-outbox';
import { addDevice, input, realSealer, useRedis } from './fixtures';

// The Redis delivery port answers exactly what the SQLite one does: the same notifications
// appended (some replacing another) and dismissed through each outbox, then the same pages, owed counts, dismissals and
// saved progress, for random priorities, topics, dismissals, watermarks, acked-above seqs and
// topic filters (fast-check; a failure prints the smallest case).

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'app', 'store', 'read-worker.js');
const sealer = realSealer();
const noop = () => undefined;
const TOPICS = [null, 'a', 'b'] as const;

const fixture = useRedis({ flush: false });

interface Case {
  notes: { priority: number; topic: (typeof TOPICS)[number]; dismissed: boolean; replaces: number | null }[];
  watermarks: number[];
  acked: number[][];
  topics: string[] | null;
  arms: { priority: number; afterSeq: number }[];
  limit: number;
  cursor: number;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  notes: fc.array(fc.record({ priority: fc.integer({ min: 1, max: 5 }), topic: fc.constantFrom(...TOPICS), dismissed: fc.boolean(), replaces: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null, freq: 4 }) }), { maxLength: 30 }),
  watermarks: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 5, maxLength: 5 }),
  acked: fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 12 }), { minLength: 5, maxLength: 5 }),
  topics: fc.option(fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }), { nil: null }),
  arms: fc.uniqueArray(fc.record({ priority: fc.integer({ min: 1, max: 5 }), afterSeq: fc.integer({ min: 0, max: 32 }) }), { selector: (a) => a.priority, maxLength: 5 }),
  limit: fc.integer({ min: 1, max: 8 }),
  cursor: fc.integer({ min: 0, max: 20 }),
});

/** A fresh SQLite store (its own file) with a device 'd' paired at seq 0. */
function sqlite() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-parity-')), 'beep.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  const writer = new GroupWriter(db, { maxOps: 100, windowMs: 0, lockWaitMs: 3_000, maxQueued: 1_000 });
  const pool = new ReadPool({ file, size: 1, idleMs: 0, workerFile: WORKER });
  db.prepare("INSERT INTO devices (id, name, platform, paired_at, paired_seq) VALUES ('d', 'n', 'test', 'x', 0)").run();
  db.prepare("INSERT INTO device_progress (device_id, watermark, acked_above, dismiss_cursor) VALUES ('d', 0, '[]', 0)").run();
  return {
    outbox: new SqliteOutbox(writer, new NotificationRepository(db, pool, sealer)),
    store: new SqliteDeliveryStore(db, writer, pool, sealer),
    close: async () => {
      await pool.close();
      db.close();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    },
  };
}

/** What a store answers for one case, in comparable form. */
async function answers(store: DeliveryStore, c: Case): Promise<unknown> {
  const progress: StoredProgress = { priorities: {}, dismissCursor: 0, topics: c.topics };
  for (let p = 1; p <= 5; p++) progress.priorities[p] = { watermark: c.watermarks[p - 1], ackedAbove: c.acked[p - 1].filter((s) => s > c.watermarks[p - 1]) };
  const page = (await store.page(c.arms, c.limit)).map((r) => [r.priority, r.seq, r.id, r.open().title]);
  await store.saveProgress([{ deviceId: 'd', priorities: [3, 5].map((p) => ({ priority: p, ...progress.priorities[p] })), dismissCursor: c.cursor }]);
  return { page, owed: await store.countOwed(progress), dismissals: await store.dismissalsAfter(c.cursor, c.limit), saved: await store.progress('d') };
}

test('pages, owed counts, dismissals and saved progress: Redis answers what SQLite answers', async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      await fixture.redis.flushall();
      await addDevice(fixture.redis, fixture.keys, 'd', 0);
      const leases = new DeviceLeases(fixture.redis, fixture.keys, 'node', 60_000);
      await leases.acquire('d');
      const redis = { outbox: new RedisOutbox(fixture.redis, fixture.keys, sealer, 3_600), store: new RedisDeliveryStore(fixture.redis, fixture.keys, sealer, leases) };
      const lite = sqlite();
      try {
        for (const side of [lite, redis]) {
          for (const [i, n] of c.notes.entries()) await side.outbox.append(input({ title: `t${i}`, priority: n.priority as Priority, topic: n.topic, replaces: n.replaces !== null ? `n${n.replaces}` : null }), `n${i + 1}`, noop);
          for (const [i, n] of c.notes.entries()) if (n.dismissed) await side.outbox.dismiss(`n${i + 1}`, null);
        }
        expect(await answers(redis.store, c)).toEqual(await answers(lite.store, c));
      } finally {
        await lite.close();
      }
    }),
    { numRuns: 40 },
  );
});
