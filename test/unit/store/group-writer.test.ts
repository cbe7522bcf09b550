import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, WRITER_BUSY_TIMEOUT_MS } from '../../../app/store/database';
import { CommitError, GroupWriter } from '../../../app/store/group-writer';

// Group commit: concurrent writes share transactions, each resolves only after its commit,
// a failing write does not sink its neighbours, and a failed commit rejects everyone.

const LIMITS = { lockWaitMs: 5_000, maxQueued: 10_000 };

function openTemp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-writer-'));
  const db = new Database(path.join(dir, 't.db'), { timeout: WRITER_BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  return { db, file: path.join(dir, 't.db') };
}

describe('GroupWriter', () => {
  test('many concurrent writes share few transactions, all committed before any resolves', async () => {
    const { db, file } = openTemp();
    const groups: number[] = [];
    const writer = new GroupWriter(db, { ...LIMITS, maxOps: 100, windowMs: 0, onCommit: (_s, size) => groups.push(size) });
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
    const writer = new GroupWriter(db, { ...LIMITS, maxOps: 10, windowMs: 0 });
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
    const writer = new GroupWriter(db, { ...LIMITS, maxOps: 50, windowMs: 0 });
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

  test('a write lock held by another connection: the loop stays free, writes wait, then commit when it is released', async () => {
    const { db, file } = openTemp();
    const writer = new GroupWriter(db, { ...LIMITS, maxOps: 10, windowMs: 0 });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const settled: string[] = [];
    const writes = ['a', 'b', 'c'].map((v) => writer.run(() => insert.run(v)).then(() => settled.push(v)));
    // The loop keeps turning while the writes wait: timers fire, and nothing settles.
    let ticks = 0;
    while (writer.state().lockedForMs < 200) {
      await new Promise((r) => setTimeout(r, 5));
      ticks += 1;
    }
    expect(ticks).toBeGreaterThan(5);
    expect(settled).toEqual([]);
    expect(writer.state().queued).toBe(3);
    other.exec('COMMIT');
    other.close();
    await Promise.all(writes);
    expect(settled).toEqual(['a', 'b', 'c']);
    expect(writer.state()).toEqual({ queued: 0, lockedForMs: 0 });
  });

  test('while the lock is held: at most maxQueued writes wait, each at most lockWaitMs, then CommitError', async () => {
    const { db, file } = openTemp();
    const writer = new GroupWriter(db, { maxOps: 10, windowMs: 0, lockWaitMs: 300, maxQueued: 4 });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const waiting = Array.from({ length: 4 }, (_, i) => writer.run(() => insert.run(`w${i}`)));
    // The fifth is refused at once, while the four still wait.
    await expect(writer.run(() => insert.run('fifth'))).rejects.toBeInstanceOf(CommitError);
    expect(writer.state().queued).toBe(4);
    const results = await Promise.allSettled(waiting);
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/locked by another process/) } });
    other.exec('ROLLBACK');
    other.close();
    // The lock gone, the writer takes writes again.
    await expect(writer.run(() => insert.run('after'))).resolves.toBeDefined();
    expect((db.prepare('SELECT v FROM t').all() as { v: string }[]).map((r) => r.v)).toEqual(['after']);
  });

  test('closing while the lock is held elsewhere fails what waits instead of hanging', async () => {
    const { db, file } = openTemp();
    const writer = new GroupWriter(db, { ...LIMITS, maxOps: 10, windowMs: 0 });
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const pending = writer.run(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('x'));
    while (writer.state().lockedForMs === 0) await new Promise((r) => setTimeout(r, 5));
    writer.close();
    await expect(pending).rejects.toBeInstanceOf(CommitError);
    other.exec('ROLLBACK');
    other.close();
  });

  test('close refuses new writes', async () => {
    const { db } = openTemp();
    const writer = new GroupWriter(db, { ...LIMITS, maxOps: 5, windowMs: 0 });
    writer.close();
    await expect(writer.run(() => 1)).rejects.toBeInstanceOf(CommitError);
  });

  describe('the window (natural batching)', () => {
    // The clock and the timers are jest's: a group that waited for its window commits only
    // when the fake clock passes it, so "did not wait" is asserted without a wall-clock bound.
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());
    const settle = () => new Promise((r) => process.nextTick(r));

    function writerWithWindow() {
      const { db } = openTemp();
      const groups: number[] = [];
      const writer = new GroupWriter(db, { ...LIMITS, maxOps: 100, windowMs: 50, onCommit: (_s, size) => groups.push(size) });
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const committed: string[] = [];
      const write = (v: string) => void writer.run(() => insert.run(v)).then(() => committed.push(v));
      return { groups, committed, write };
    }

    test('a lone write commits on the next turn instead of waiting the window for company that is not coming', async () => {
      const { groups, committed, write } = writerWithWindow();
      write('lone');
      jest.advanceTimersByTime(0); // the next turn; the 50 ms window never passes
      await settle();
      expect(committed).toEqual(['lone']);
      expect(groups).toEqual([1]);
    });

    test('writes that keep coming gather for the window and share commits; after a pause a write goes alone again', async () => {
      const { groups, committed, write } = writerWithWindow();
      for (let i = 0; i < 60; i++) {
        write(`w${i}`);
        jest.advanceTimersByTime(1); // one write a millisecond: about 50 per window
      }
      jest.advanceTimersByTime(50);
      await settle();
      expect(committed).toHaveLength(60);
      // The first ones went alone (nothing told yet that more were coming), the rest gathered.
      expect(groups[0]).toBe(1);
      expect(Math.max(...groups)).toBeGreaterThan(10);
      expect(groups.length).toBeLessThan(40);

      // Once they gathered, a write in the stream waits for its window: not committed on the next turn.
      const before = groups.length;
      write('in the stream');
      jest.advanceTimersByTime(0);
      await settle();
      expect(committed).not.toContain('in the stream');
      jest.advanceTimersByTime(50);
      await settle();
      expect(committed).toContain('in the stream');
      expect(groups.length).toBe(before + 1);

      // A minute later a write goes at once again.
      jest.advanceTimersByTime(60_000);
      write('after the pause');
      jest.advanceTimersByTime(0);
      await settle();
      expect(committed).toContain('after the pause');
    });
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
