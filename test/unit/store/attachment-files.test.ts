import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FieldCipher, newDataKey } from '../../../app/crypto/field-cipher';
import { AttachmentFiles } from '../../../app/store/attachment-files';
import { migrate, WRITER_BUSY_TIMEOUT_MS } from '../../../app/store/database';
import { GroupWriter } from '../../../app/store/group-writer';
import { NotificationRepository } from '../../../app/store/notification-repository';
import { SqliteScheduleStore } from '../../../app/store/scheduled-store';
import type { ReadPool } from '../../../app/store/read-pool';
import { NOTIFICATION_COLUMNS, toNotification, type NotificationRow } from '../../../app/store/rows';

// The attachment store over a real SQLite database: a file belongs to its notification from the
// notification's own commit (its name and type sealed in the row), and the sweep deletes a file
// once it expires, once retention removed its notification, or when no notification ever
// claimed it; a file on disk without a record goes too.

function open() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-att-'));
  const db = new Database(path.join(dir, 't.db'), { timeout: WRITER_BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  migrate(db);
  const master = crypto.randomBytes(32);
  const key = newDataKey(master);
  const cipher = new FieldCipher();
  cipher.load(master, [key]);
  const writer = new GroupWriter(db, { maxOps: 50, windowMs: 0, lockWaitMs: 5_000, maxQueued: 1_000 });
  const pool = { all: async (sql: string, params: unknown[] = []) => db.prepare(sql).all(...params), get: async (sql: string, params: unknown[] = []) => db.prepare(sql).get(...params) } as unknown as ReadPool;
  const clock = { now: 1_000_000_000_000 };
  const files = new AttachmentFiles(dir, db, writer, pool, cipher, { maxFileBytes: 1_000_000, maxTotalBytes: 10_000_000, expiryMs: 3_600_000 }, () => clock.now);
  const repo = new NotificationRepository(db, pool, cipher);
  return { dir, db, writer, files, repo, clock, cipher };
}

const note = (title: string, file: { id: string; size: number; type: string; expiresMs: number }) => ({
  title, body: '', app: 'a', priority: 3 as const, tags: [], url: null, topic: null, source: 'ntfy' as const,
  attachment: { name: `${title}.png`, type: file.type, size: file.size, expiresMs: file.expiresMs, file: file.id },
});

test('a file is linked in its notification\'s commit; its name and type live only in the row\'s seal', async () => {
  const { db, writer, files, repo, cipher } = open();
  const saved = await files.save(Readable.from([Buffer.from('89504e470d0a1a0a0000', 'hex')]));
  expect(saved.type).toBe('image/png');
  await writer.run(() => repo.append(note('garden', saved), 'n1', new Date()));
  expect((await files.find(saved.id))?.notificationId).toBe('n1');
  const row = db.prepare(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = 'n1'`).get() as NotificationRow;
  expect(JSON.stringify(row)).not.toContain('garden.png');
  expect(toNotification(row, cipher).attachment).toEqual(note('garden', saved).attachment);
  const bytes = await buffer(await files.open((await files.find(saved.id))!));
  expect(bytes.toString('hex')).toBe('89504e470d0a1a0a0000');
});

test('the sweep: retention removed the notification, nothing claimed the upload, the file expired, a stray on disk', async () => {
  const { dir, writer, files, repo, clock } = open();
  const body = () => Readable.from([crypto.randomBytes(1000)]);
  const pruned = await files.save(body());
  await writer.run(() => repo.append(note('old', pruned), 'n-old', new Date(clock.now - 1000)));
  const kept = await files.save(body());
  await writer.run(() => repo.append(note('kept', kept), 'n-kept', new Date(clock.now)));
  const unclaimed = await files.save(body());
  const stray = path.join(dir, 'attachments', 'A'.repeat(22));
  fs.writeFileSync(stray, 'left by a crash');
  fs.utimesSync(stray, new Date(clock.now - 3_600_000), new Date(clock.now - 3_600_000));
  const exists = (id: string) => fs.existsSync(path.join(dir, 'attachments', id));

  expect(await files.sweep()).toBe(1); // only the stray (old enough); the rest is young and claimed or within grace
  expect(fs.existsSync(stray)).toBe(false);
  await writer.run(() => repo.deleteOlderThan(clock.now - 500)); // retention removes n-old
  expect(await files.sweep()).toBe(1);
  expect([exists(pruned.id), exists(kept.id), exists(unclaimed.id)]).toEqual([false, true, true]);
  clock.now += 11 * 60_000; // past the grace an upload has to be claimed
  expect(await files.sweep()).toBe(1);
  expect([exists(kept.id), exists(unclaimed.id)]).toEqual([true, false]);
  clock.now += 3_600_000; // past the expiry
  const record = (await files.find(kept.id))!;
  await expect(files.open(record)).rejects.toMatchObject({ code: 'attachment_expired' });
  expect(await files.sweep()).toBe(1);
  expect(exists(kept.id)).toBe(false);
  expect(await files.find(kept.id)).toBeUndefined();
});

test('over the file limit, streamed or declared up front: refused, nothing left behind', async () => {
  const { dir, files } = open();
  await expect(files.save(Readable.from([crypto.randomBytes(1_000_001)]))).rejects.toMatchObject({ code: 'attachment_too_large' });
  await expect(files.save(Readable.from([]), 1_000_001)).rejects.toMatchObject({ code: 'attachment_too_large' });
  expect(fs.readdirSync(path.join(dir, 'attachments'))).toEqual([]);
});

test('a refusal on the first chunk, before the file is even open, leaves no .part behind (50 in a row)', async () => {
  const { dir, files } = open();
  for (let i = 0; i < 50; i++) {
    await expect(files.save(Readable.from([crypto.randomBytes(1_000_001)]))).rejects.toMatchObject({ code: 'attachment_too_large' });
    expect(fs.readdirSync(path.join(dir, 'attachments'))).toEqual([]);
  }
});

test('an upload a scheduled notification waits with is kept past the unlinked grace; cancelled, it goes', async () => {
  const { db, writer, files, clock, cipher } = open();
  const saved = await files.save(Readable.from([crypto.randomBytes(1000)]));
  const schedule = new SqliteScheduleStore(db, writer, cipher);
  await schedule.add({ id: 'later', dueMs: clock.now + 86_400_000, createdMs: clock.now, input: note('later', saved) });
  clock.now += 30 * 60 * 1000; // past the unlinked grace, before the file's expiry
  await files.sweep();
  expect(await files.find(saved.id)).toBeDefined();
  expect(await schedule.remove('later')).toBe(true);
  await files.sweep();
  expect(await files.find(saved.id)).toBeUndefined();
});
