import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../../app/store/database';
import { SqliteDeliveryStore } from '../../../app/store/delivery-store';
import { GroupWriter } from '../../../app/store/group-writer';
import { ReadPool } from '../../../app/store/read-pool';
import type { FieldSealer } from '../../../app/store/rows';

// The delivery port on SQLite: migration 010 turns one watermark into one per priority, pages
// are read by (priority, seq) through the partial index, progress writes are one transaction
// for many devices, and owed counts follow each priority's watermark and the topic filter.

const WORKER = path.resolve(__dirname, '..', '..', '..', 'dist', 'app', 'store', 'read-worker.js');
const MIGRATIONS = path.resolve(__dirname, '..', '..', '..', 'app', 'store', 'migrations');
const plain: FieldSealer = { seal: (v) => v, open: (v) => v, currentKeyId: () => 'k', keyIdOf: () => 'k' };

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-delivery-')), 'beep.db');
}

function insertNotification(db: Database.Database, seq: number, priority: number, extra: { topic?: string | null; dismissed?: boolean } = {}): void {
  db.prepare(
    `INSERT INTO notifications (seq, id, title, body, app, priority, tags, url, topic, source, created_at, created_ms, dismissed_at)
     VALUES (?, ?, 't', 'b', 'a', ?, '[]', NULL, ?, 'http', '2026-01-01T00:00:00.000Z', 0, ?)`,
  ).run(seq, `n${seq}`, priority, extra.topic ?? null, extra.dismissed ? '2026-01-01T00:00:00.000Z' : null);
}

function insertDevice(db: Database.Database, id: string, watermark: number, ackedAbove: number[] = [], topics: string[] | null = null): void {
  db.prepare("INSERT INTO devices (id, name, platform, paired_at, paired_seq, topics) VALUES (?, 'n', 'test', 'x', ?, ?)").run(id, watermark, topics && JSON.stringify(topics));
  db.prepare('INSERT INTO device_progress (device_id, watermark, acked_above, dismiss_cursor) VALUES (?, ?, ?, 0)').run(id, watermark, JSON.stringify(ackedAbove));
}

function open(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  const writer = new GroupWriter(db, { maxOps: 100, windowMs: 0, lockWaitMs: 3_000, maxQueued: 1_000 });
  const pool = new ReadPool({ file, size: 1, idleMs: 0, workerFile: WORKER });
  return { db, pool, store: new SqliteDeliveryStore(db, writer, pool, plain) };
}

test('migration 010: the old watermark becomes every priority’s, acked-above seqs go to their own priority', () => {
  const before = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-migrations-'));
  for (const f of fs.readdirSync(MIGRATIONS)) if (Number.parseInt(f, 10) < 10) fs.copyFileSync(path.join(MIGRATIONS, f), path.join(before, f));
  const db = new Database(':memory:');
  migrate(db, before);
  for (const [seq, priority] of [[11, 5], [12, 3], [13, 5], [14, 1]]) insertNotification(db, seq, priority);
  insertDevice(db, 'd', 10, [12, 13, 14, 99]); // 99: a notification already pruned
  expect(migrate(db, MIGRATIONS)).toContain(10); // and any later ones
  const rows = db.prepare('SELECT priority, watermark, acked_above FROM device_priority_progress ORDER BY priority').all();
  expect(rows).toEqual([
    { priority: 1, watermark: 10, acked_above: '[14]' },
    { priority: 2, watermark: 10, acked_above: '[]' },
    { priority: 3, watermark: 10, acked_above: '[12]' },
    { priority: 4, watermark: 10, acked_above: '[]' },
    { priority: 5, watermark: 10, acked_above: '[13]' },
  ]);
});

describe('SqliteDeliveryStore', () => {
  let parts: ReturnType<typeof open>;
  beforeEach(() => {
    parts = open(tempFile());
  });
  afterEach(async () => {
    await parts.pool.close();
    parts.db.close();
  });

  test('progress: per priority, a device paired later starts every priority at its pairing seq; revoked = undefined', async () => {
    const { db, store } = parts;
    insertDevice(db, 'new', 7, [], ['alerts']);
    expect(await store.progress('new')).toEqual({
      priorities: { 1: { watermark: 7, ackedAbove: [] }, 2: { watermark: 7, ackedAbove: [] }, 3: { watermark: 7, ackedAbove: [] }, 4: { watermark: 7, ackedAbove: [] }, 5: { watermark: 7, ackedAbove: [] } },
      dismissCursor: 0,
      topics: ['alerts'],
    });
    db.prepare("UPDATE devices SET revoked_at = 'x' WHERE id = 'new'").run();
    expect(await store.progress('new')).toBeUndefined();
    expect(await store.progress('nobody')).toBeUndefined();
  });

  test('pages: per arm, undismissed rows above its seq in seq order, through the (priority, seq) index', async () => {
    const { db, store } = parts;
    for (let seq = 1; seq <= 30; seq++) insertNotification(db, seq, (seq % 3) + 3, { dismissed: seq === 4 });
    const rows = await store.page([{ priority: 5, afterSeq: 0 }, { priority: 4, afterSeq: 10 }], 4);
    expect(rows.map((r) => [r.priority, r.seq])).toEqual([[5, 2], [5, 5], [5, 8], [5, 11], [4, 13], [4, 16], [4, 19], [4, 22]]);
    expect(rows[0].open()).toMatchObject({ id: 'n2', seq: 2, priority: 5, title: 't' });
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT seq FROM notifications WHERE priority = ? AND seq > ? AND dismissed_at IS NULL ORDER BY seq LIMIT ?').all(5, 0, 4) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('notifications_owed');
  });

  test('saveProgress: many devices in one write; cursors only move forward; a device gone is passed over', async () => {
    const { db, store } = parts;
    insertDevice(db, 'a', 0);
    insertDevice(db, 'b', 0);
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
    expect(db.prepare("SELECT COUNT(*) AS n FROM device_priority_progress WHERE device_id = 'ghost'").get()).toEqual({ n: 0 });
  });

  test('countOwed and dismissalsAfter', async () => {
    const { db, store } = parts;
    insertNotification(db, 1, 3);
    insertNotification(db, 2, 5);
    insertNotification(db, 3, 3, { topic: 'chat' });
    insertNotification(db, 4, 3, { topic: 'alerts' });
    insertNotification(db, 5, 3, { dismissed: true });
    const all = { 1: { watermark: 0, ackedAbove: [] }, 2: { watermark: 0, ackedAbove: [] }, 4: { watermark: 0, ackedAbove: [] } };
    const progress = { priorities: { ...all, 3: { watermark: 0, ackedAbove: [1] }, 5: { watermark: 2, ackedAbove: [] } }, dismissCursor: 0, topics: null };
    expect(await store.countOwed(progress)).toBe(2); // 3 and 4
    expect(await store.countOwed({ ...progress, topics: ['alerts'] })).toBe(1);
    for (const id of ['n1', 'n2', 'n3']) db.prepare('INSERT INTO dismissals (notification_id, by_device, at_ms) VALUES (?, NULL, 0)').run(id);
    expect(await store.dismissalsAfter(1, 1)).toEqual([{ seq: 2, notificationId: 'n2' }]);
  });
});
