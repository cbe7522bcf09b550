import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FieldCipher, newDataKey } from '../../../app/crypto/field-cipher';
import { migrate, WRITER_BUSY_TIMEOUT_MS } from '../../../app/store/database';
import { GroupWriter } from '../../../app/store/group-writer';
import { KeyRotation } from '../../../app/store/key-rotation';
import { NotificationRepository } from '../../../app/store/notification-repository';
import type { ReadPool } from '../../../app/store/read-pool';
import { RowReseal } from '../../../app/store/row-reseal';
import { NOTIFICATION_COLUMNS, toNotification, type NotificationRow } from '../../../app/store/rows';
import { openRow, rowAad, sealRow } from '../../../app/store/row-seal';

// One seal per notification row: what is stored, what a moved seal does, rows of the four-seal
// format of before (read as they are, converted online and resumably, and by a key rotation).

function open() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-seal-')), 't.db');
  const db = new Database(file, { timeout: WRITER_BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  migrate(db);
  const master = crypto.randomBytes(32);
  const key = newDataKey(master);
  db.prepare('INSERT INTO data_keys (id, wrapped, created_ms) VALUES (?, ?, 0)').run(key.id, key.wrapped);
  const cipher = new FieldCipher();
  cipher.load(master, [key]);
  const writer = new GroupWriter(db, { maxOps: 50, windowMs: 0, lockWaitMs: 5_000, maxQueued: 1_000 });
  // Reads go through the main connection here: the pool only moves them off the main thread.
  const pool = { all: async (sql: string, params: unknown[] = []) => db.prepare(sql).all(...params), get: async (sql: string, params: unknown[] = []) => db.prepare(sql).get(...params) } as unknown as ReadPool;
  const repo = new NotificationRepository(db, pool, cipher);
  const row = (id: string) => db.prepare(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?`).get(id) as NotificationRow;
  return { db, master, cipher, writer, repo, row };
}

const input = (title: string) => ({
  title,
  body: `body of ${title}`,
  app: 'app',
  priority: 3 as const,
  tags: ['t1', 't2'],
  url: `https://example.com/${title}`,
  topic: null,
  source: 'http' as const,
  icon: `https://example.com/${title}.png`,
});

/** A row as the four-seal format wrote it: four seals, one per column, url and icon in plaintext. */
function insertLegacy(db: Database.Database, cipher: FieldCipher, id: string, title: string): void {
  const seal = (column: string, value: string) => cipher.seal(value, `notifications.${column}.${id}`);
  const n = input(title);
  db.prepare(
    `INSERT INTO notifications (id, title, body, app, priority, tags, url, topic, source, created_at, created_ms, icon)
     VALUES (?, ?, ?, ?, 3, ?, ?, NULL, 'http', '2024-01-01T00:00:00.000Z', 0, ?)`,
  ).run(id, seal('title', n.title), seal('body', n.body), seal('app', n.app), seal('tags', JSON.stringify(n.tags)), n.url, n.icon);
}

test('a new row holds one seal and nothing else private; it reads back whole', () => {
  const { repo, row, cipher } = open();
  const { notification } = repo.append(input('fresh'), 'n-fresh', new Date());
  const stored = row('n-fresh');
  expect(stored).toMatchObject({ title: '', body: '', app: '', tags: '', url: null, icon: null, sealed: expect.stringMatching(/^e1:/) });
  expect(toNotification(stored, cipher)).toEqual(notification);
  expect(notification).toMatchObject({ title: 'fresh', tags: ['t1', 't2'], url: 'https://example.com/fresh', icon: 'https://example.com/fresh.png' });
});

test('a seal moved to another row, or a four-seal value moved into the seal, does not open', () => {
  const { db, repo, row, cipher } = open();
  repo.append(input('a'), 'n-a', new Date());
  repo.append(input('b'), 'n-b', new Date());
  db.prepare('UPDATE notifications SET sealed = ? WHERE id = ?').run(row('n-a').sealed, 'n-b');
  expect(() => toNotification(row('n-b'), cipher)).toThrow();
  insertLegacy(db, cipher, 'n-old', 'old');
  db.prepare('UPDATE notifications SET sealed = ? WHERE id = ?').run(row('n-old').title, 'n-a');
  expect(() => toNotification(row('n-a'), cipher)).toThrow();
});

test('rows in the four-seal format read as before, and the re-seal converts them online, resumably', async () => {
  const { db, repo, row, cipher, writer } = open();
  for (let i = 0; i < 5; i++) insertLegacy(db, cipher, `old-${i}`, `old ${i}`);
  repo.append(input('new'), 'n-new', new Date());
  const before = Array.from({ length: 5 }, (_, i) => toNotification(row(`old-${i}`), cipher));
  expect(before[3]).toMatchObject({ title: 'old 3', body: 'body of old 3', tags: ['t1', 't2'], url: 'https://example.com/old 3', icon: 'https://example.com/old 3.png' });

  // Interrupted after its first batch of 2 (a long pause, then stopped): 2 converted, 3 left.
  const first = new RowReseal(db, writer, cipher, { batchSize: 2, pauseMs: 60_000, retryMs: 1_000 });
  first.start();
  while ((db.prepare('SELECT COUNT(*) AS n FROM notifications WHERE sealed IS NULL').get() as { n: number }).n > 3) await new Promise((r) => setTimeout(r, 5));
  first.stop();
  expect(first.pending()).toBe(true);

  // The next start goes on with what is left.
  const finished: [number, number][] = [];
  const second = new RowReseal(db, writer, cipher, { batchSize: 2, pauseMs: 0, retryMs: 1_000, onFinished: (c, u) => finished.push([c, u]) });
  second.start();
  while (finished.length === 0) await new Promise((r) => setTimeout(r, 5));
  expect(finished).toEqual([[3, 0]]);
  expect(second.pending()).toBe(false);
  for (let i = 0; i < 5; i++) {
    expect(row(`old-${i}`)).toMatchObject({ title: '', body: '', app: '', tags: '', url: null, icon: null, sealed: expect.stringMatching(/^e1:/) });
    expect(toNotification(row(`old-${i}`), cipher)).toEqual(before[i]);
  }
});

test('a row that does not open is left as it is and reported; the others are converted', async () => {
  const { db, row, cipher, writer } = open();
  insertLegacy(db, cipher, 'good-1', 'g1');
  insertLegacy(db, cipher, 'bad', 'bad');
  insertLegacy(db, cipher, 'good-2', 'g2');
  db.prepare("UPDATE notifications SET body = ? WHERE id = 'bad'").run(row('good-1').body);
  const errors: unknown[] = [];
  const finished: [number, number][] = [];
  new RowReseal(db, writer, cipher, { batchSize: 10, pauseMs: 0, retryMs: 1_000, onError: (e) => errors.push(e), onFinished: (c, u) => finished.push([c, u]) }).start();
  while (finished.length === 0) await new Promise((r) => setTimeout(r, 5));
  expect(finished).toEqual([[2, 1]]);
  expect(String(errors[0])).toMatch(/cannot be opened/);
  expect(row('bad').sealed).toBeNull();
  expect(toNotification(row('good-2'), cipher).title).toBe('g2');
});

test('a key rotation converts four-seal rows it passes and re-seals one-seal rows under the new key', async () => {
  const { db, repo, row, cipher, writer, master } = open();
  insertLegacy(db, cipher, 'old', 'old');
  repo.append(input('new'), 'n-new', new Date());
  const key = newDataKey(master);
  let done = false;
  const finishing = new KeyRotation(db, writer, cipher, { batchSize: 1, pauseMs: 0, onFinished: () => (done = true) });
  await finishing.start(key, () => cipher.add(master, key));
  while (!done) await new Promise((r) => setTimeout(r, 5));
  for (const id of ['old', 'n-new']) {
    expect(row(id).sealed!.startsWith(`e1:${key.id}:`)).toBe(true);
    expect(row(id).title).toBe('');
  }
  expect(toNotification(row('old'), cipher)).toMatchObject({ title: 'old', url: 'https://example.com/old' });
  expect(toNotification(row('n-new'), cipher)).toMatchObject({ title: 'new', icon: 'https://example.com/new.png' });
});

test('a Gotify priority rides inside the seal: absent when none was given, kept by a re-seal, in no column', () => {
  const { repo, row, cipher } = open();
  const { notification } = repo.append({ ...input('gotify'), source: 'gotify', givenPriority: 7 }, 'n-given', new Date());
  expect(notification.givenPriority).toBe(7);
  repo.append(input('plain'), 'n-plain', new Date());
  const stored = row('n-given');
  expect(JSON.stringify({ ...stored, sealed: null, seq: null, created_at: null })).not.toMatch(/7/);
  expect(toNotification(stored, cipher).givenPriority).toBe(7);
  expect(JSON.parse(cipher.open(stored.sealed!, rowAad('n-given')))).toMatchObject({ givenPriority: 7 });
  expect('givenPriority' in toNotification(row('n-plain'), cipher)).toBe(false);
  expect(JSON.parse(cipher.open(row('n-plain').sealed!, rowAad('n-plain')))).not.toHaveProperty('givenPriority');
  // A re-seal (key rotation) opens and seals again: the field survives it.
  const resealed = sealRow(cipher, 'n-given', openRow(cipher, stored));
  expect(openRow(cipher, { ...stored, ...resealed }).givenPriority).toBe(7);
});
