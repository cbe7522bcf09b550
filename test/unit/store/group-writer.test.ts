import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../../app/store/database';
import { CommitError, GroupWriter } from '../../../app/store/group-writer';

// Group commit: concurrent writes share transactions, each resolves only after its commit,
// a failing write does not sink its neighbours, and a failed commit rejects everyone.

function openTemp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-writer-'));
  const db = new Database(path.join(dir, 't.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  return { db, file: path.join(dir, 't.db') };
}

describe('GroupWriter', () => {
  test('many concurrent writes share few transactions, all committed before any resolves', async () => {
    const { db, file } = openTemp();
    const groups: number[] = [];
    const writer = new GroupWriter(db, { maxOps: 100, windowMs: 0, onCommit: (_s, size) => groups.push(size) });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const other = new Database(file, { readonly: true });
    const seenByOther: number[] = [];
    const writes = Array.from({ length: 250 }, (_, i) =>
      writer.run(() => insert.run(`v${i}`).lastInsertRowid).then((id) => {
        // Another connection sees the row the moment the promise resolves: it was committed.
        seenByOther.push((other.prepare('SELECT COUNT(*) AS n FROM t WHERE id = ?').get(id) as { n: number }).n);
        return id;
      }),
    );
    const ids = await Promise.all(writes);
    expect(new Set(ids).size).toBe(250);
    expect(seenByOther.every((n) => n === 1)).toBe(true);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(250);
    expect(groups.length).toBeLessThanOrEqual(3); // 100 + 100 + 50
    expect(Math.max(...groups)).toBe(100);
  });

  test('afterCommit runs in order before resolution; a failing write is isolated in its savepoint', async () => {
    const { db } = openTemp();
    const writer = new GroupWriter(db, { maxOps: 10, windowMs: 0 });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const order: string[] = [];
    const a = writer.run(() => insert.run('same'), () => order.push('after a'));
    const b = writer.run(() => insert.run('same'), () => order.push('after b')); // UNIQUE violation
    const c = writer.run(() => insert.run('other'), () => order.push('after c'));
    a.then(() => order.push('resolved a'));
    // Matched by message, not toThrow: better-sqlite3's error class belongs to the first test
    // realm that loaded the native module in this worker, so instanceof Error can be false here.
    await expect(b).rejects.toMatchObject({ message: expect.stringMatching(/UNIQUE/) });
    await Promise.all([a, c]);
    expect(order.slice(0, 2)).toEqual(['after a', 'after c']);
    expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(2);
  });

  test('a commit that cannot happen rejects every write of the group with CommitError', async () => {
    const { db } = openTemp();
    db.pragma('max_page_count = 3');
    const writer = new GroupWriter(db, { maxOps: 50, windowMs: 0 });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => writer.run(() => insert.run(`${i}-${'x'.repeat(2000)}`))),
    );
    const failures = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) expect(f.reason).toBeInstanceOf(CommitError);
    // The writer keeps working once there is room again.
    db.pragma('max_page_count = 100000');
    await expect(writer.run(() => insert.run('after'))).resolves.toBeDefined();
  });

  test('close refuses new writes', async () => {
    const { db } = openTemp();
    const writer = new GroupWriter(db, { maxOps: 5, windowMs: 0 });
    writer.close();
    await expect(writer.run(() => 1)).rejects.toBeInstanceOf(CommitError);
  });

  test('migrations are numbered and applied once', () => {
    const db = new Database(':memory:');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-mig-'));
    fs.writeFileSync(path.join(dir, '001_a.sql'), 'CREATE TABLE a (x);');
    fs.writeFileSync(path.join(dir, '002_b.sql'), 'CREATE TABLE b (x);');
    expect(migrate(db, dir)).toEqual([1, 2]);
    expect(migrate(db, dir)).toEqual([]);
    fs.writeFileSync(path.join(dir, '003_bad.sql'), 'CREATE TABLE c (x); SELECT nope FROM nowhere;');
    expect(() => migrate(db, dir)).toThrow();
    // The failed migration left nothing behind.
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'c'").get()).toEqual({ n: 0 });
  });
});
