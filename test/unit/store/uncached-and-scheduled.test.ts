import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../../app/store/database';
import { SqliteDeliveryStore } from '../../../app/store/delivery-store';
import { GroupWriter } from '../../../app/store/group-writer';
import { ReadPool } from '../../../app/store/read-pool';
import type { FieldSealer } from '../../../app/store/rows';
import { SqliteScheduleStore } from '../../../app/store/scheduled-store';
import { UncachedRows } from '../../../app/store/uncached-rows';
import type { NotificationInput } from '../../../app/domain/notification';

// Migration 013 on SQLite: `Cache: no` rows carry the devices they are owed to into backlog
// pages and are deleted once each of those devices has settled them (or is revoked);
// scheduled rows are sealed with their row's associated data, read by due time, and one that
// does not open is dropped and reported instead of blocking the rest.

const WORKER = path.resolve(__dirname, '..', '..', '..', 'dist', 'app', 'store', 'read-worker.js');
/** Seals as `<aad>|<plain>`, so a seal opened under another row's associated data fails. */
const tagged: FieldSealer = {
  seal: (v, aad) => `${aad}|${v}`,
  open: (v, aad) => {
    if (!v.startsWith(`${aad}|`)) throw new Error('seal does not open here');
    return v.slice(aad.length + 1);
  },
  currentKeyId: () => 'k',
  keyIdOf: () => 'k',
};

function world() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-013-')), 'beep.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  const writer = new GroupWriter(db, { maxOps: 100, windowMs: 0, lockWaitMs: 3_000, maxQueued: 1_000 });
  const pool = new ReadPool({ file, size: 1, idleMs: 0, workerFile: WORKER });
  return { db, writer, pool };
}

function insertNotification(db: Database.Database, seq: number, priority = 3): void {
  db.prepare(
    `INSERT INTO notifications (seq, id, title, body, app, priority, tags, url, topic, source, created_at, created_ms, sealed)
     VALUES (?, ?, '', '', '', ?, '', NULL, NULL, 'ntfy', '2026-01-01T00:00:00.000Z', 0, ?)`,
  ).run(seq, `n${seq}`, priority, `notifications:n${seq}|{"title":"t","body":"b","app":"a","tags":[],"url":null,"icon":null}`);
}

function insertDevice(db: Database.Database, id: string): void {
  db.prepare("INSERT INTO devices (id, name, platform, paired_at, paired_seq) VALUES (?, 'n', 'test', 'x', 0)").run(id);
  db.prepare('INSERT INTO device_progress (device_id, watermark, acked_above, dismiss_cursor) VALUES (?, 0, ?, 0)').run(id, '[]');
}

const seqs = (db: Database.Database) => (db.prepare('SELECT seq FROM notifications ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);

describe('Cache: no rows', () => {
  test('a backlog page carries the devices an uncached row is owed to; other rows carry none', async () => {
    const { db, writer, pool } = world();
    for (const id of ['a', 'b']) insertDevice(db, id);
    insertNotification(db, 1);
    insertNotification(db, 2);
    new UncachedRows(db).mark(2, ['a']);
    const store = new SqliteDeliveryStore(db, writer, pool, tagged);
    const rows = await store.page([{ priority: 3, afterSeq: 0 }], 10);
    expect(rows.map((r) => [r.seq, r.open().owedTo ?? null])).toEqual([[1, null], [2, ['a']]]);
    await pool.close();
  });

  test('deleted by the progress write that settles it for the last device owed it; a revoked one is owed nothing', async () => {
    const { db, writer, pool } = world();
    for (const id of ['a', 'b', 'c']) insertDevice(db, id);
    for (const seq of [1, 2, 3]) insertNotification(db, seq);
    const uncached = new UncachedRows(db);
    uncached.mark(2, ['a', 'b']);
    uncached.mark(3, ['c']);
    const store = new SqliteDeliveryStore(db, writer, pool, tagged);
    await store.saveProgress([{ deviceId: 'a', priorities: [{ priority: 3, watermark: 2, ackedAbove: [] }] }]);
    expect(seqs(db)).toEqual([1, 2, 3]);
    await store.saveProgress([{ deviceId: 'b', priorities: [{ priority: 3, watermark: 1, ackedAbove: [2] }] }]);
    expect(seqs(db)).toEqual([1, 3]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM uncached_owed WHERE seq = 2').get()).toEqual({ n: 0 });
    db.prepare("UPDATE devices SET revoked_at = 'x' WHERE id = 'c'").run();
    await store.saveProgress([]);
    expect(seqs(db)).toEqual([1]);
    await pool.close();
  });

  test('owed to nobody, or dismissed: deleted by the next purge; an ordinary row never is', () => {
    const { db } = world();
    insertDevice(db, 'a');
    for (const seq of [1, 2, 3]) insertNotification(db, seq);
    const uncached = new UncachedRows(db);
    uncached.mark(2, []);
    uncached.mark(3, ['a']);
    db.prepare("UPDATE notifications SET dismissed_at = 'x' WHERE seq = 3").run();
    expect(uncached.purge()).toBe(2);
    expect(seqs(db)).toEqual([1]);
    expect(uncached.purge()).toBe(0);
  });
});

describe('scheduled rows', () => {
  const input = (title: string): NotificationInput => ({ title, body: 'b', app: 'a', priority: 3, tags: [], url: null, topic: 't', source: 'ntfy', tokenId: 7 });

  test('sealed with the row\'s associated data; read by due time, earliest first; removed once', async () => {
    const { db, writer } = world();
    const store = new SqliteScheduleStore(db, writer, tagged);
    await store.add({ id: 'late', dueMs: 3000, createdMs: 1, input: input('late') });
    await store.add({ id: 'early', dueMs: 1000, createdMs: 1, input: input('early') });
    await store.add({ id: 'early', dueMs: 9999, createdMs: 1, input: input('again') }); // same id: kept as first stored
    const row = db.prepare("SELECT sealed, topic, token_id FROM scheduled_notifications WHERE id = 'early'").get() as { sealed: string; topic: string; token_id: number };
    expect(row).toMatchObject({ topic: 't', token_id: 7 });
    expect(row.sealed.startsWith('scheduled:early|')).toBe(true);
    expect((await store.due(2000, 10)).map((e) => [e.id, e.input.title])).toEqual([['early', 'early']]);
    expect(await store.nextDueMs()).toBe(1000);
    expect(await store.remove('early')).toBe(true);
    expect(await store.remove('early')).toBe(false);
    expect((await store.list(10)).map((e) => e.id)).toEqual(['late']);
  });

  test('a row whose seal does not open is dropped and reported; the rest still goes', async () => {
    const { db, writer } = world();
    const store = new SqliteScheduleStore(db, writer, tagged);
    await store.add({ id: 'good', dueMs: 2000, createdMs: 1, input: input('good') });
    await store.add({ id: 'moved', dueMs: 1000, createdMs: 1, input: input('moved') });
    // A seal copied from another row does not open here.
    db.prepare("UPDATE scheduled_notifications SET sealed = (SELECT sealed FROM scheduled_notifications WHERE id = 'good') WHERE id = 'moved'").run();
    expect((await store.list(10)).map((e) => e.id)).toEqual(['good']);
    await expect(store.due(5000, 10)).rejects.toThrow(/could not be opened were dropped: moved/);
    expect((await store.due(5000, 10)).map((e) => e.id)).toEqual(['good']);
  });
});
