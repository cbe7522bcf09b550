import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ReadError, ReadPool } from '../../../app/store/read-pool';

// The read pool runs queries on worker threads (the compiled worker from dist/), started only
// when a query needs one and ended after a while idle; it reports how long each query waited for
// a connection, heals when a worker dies, and can checkpoint the WAL off the main thread.

const WORKER = path.resolve(__dirname, '..', '..', '..', 'dist', 'app', 'store', 'read-worker.js');

function database(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-pool-')), 'r.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3);');
  db.close();
  return file;
}

describe('ReadPool', () => {
  test('answers queries, queues beyond its size, and reports acquisition time', async () => {
    const waits: number[] = [];
    const pool = new ReadPool({ file: database(), size: 2, idleMs: 0, workerFile: WORKER, onAcquire: (s) => waits.push(s) });
    expect(pool.stats()).toMatchObject({ size: 2, alive: 0 }); // no worker until a query needs one
    const results = await Promise.all(Array.from({ length: 10 }, () => pool.all<{ n: number }>('SELECT n FROM t ORDER BY n')));
    for (const rows of results) expect(rows.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(await pool.get<{ s: number }>('SELECT SUM(n) AS s FROM t')).toEqual({ s: 6 });
    expect(waits).toHaveLength(11);
    expect(pool.stats()).toEqual({ size: 2, alive: 2, busy: 0, waiting: 0, lastFailure: null });
    await pool.close();
  });

  test('read-only: a write fails with a ReadError, and bad SQL too', async () => {
    const pool = new ReadPool({ file: database(), size: 1, idleMs: 0, workerFile: WORKER });
    await expect(pool.all('INSERT INTO t VALUES (4)')).rejects.toBeInstanceOf(ReadError);
    await expect(pool.all('SELECT nope FROM t')).rejects.toThrow(/no such column/);
    expect(await pool.all('SELECT n FROM t')).toHaveLength(3);
    await pool.close();
  });

  test('a worker that dies fails its query; the next query starts another', async () => {
    const pool = new ReadPool({ file: database(), size: 1, idleMs: 0, workerFile: WORKER });
    const slow = pool.all("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 50000000) SELECT COUNT(*) FROM c");
    const slot = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0];
    await slot.worker.terminate();
    await expect(slow).rejects.toBeInstanceOf(ReadError);
    expect(pool.stats()).toMatchObject({ alive: 0, lastFailure: expect.any(String) });
    expect(await pool.all('SELECT n FROM t')).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ alive: 1, lastFailure: null });
    await pool.close();
    await expect(pool.all('SELECT 1')).rejects.toThrow(/closed/);
  });

  test('workers idle for idleMs end; a later query starts one again', async () => {
    const pool = new ReadPool({ file: database(), size: 2, idleMs: 100, workerFile: WORKER });
    await Promise.all([pool.get('SELECT 1'), pool.get('SELECT 2')]);
    expect(pool.stats().alive).toBeGreaterThan(0);
    while (pool.stats().alive > 0) await new Promise((r) => setTimeout(r, 20));
    expect(pool.stats().lastFailure).toBeNull(); // ended on purpose, not a failure
    await pool.ping(); // no worker is started just to be pinged
    expect(pool.stats().alive).toBe(0);
    expect(await pool.get<{ s: number }>('SELECT SUM(n) AS s FROM t')).toEqual({ s: 6 });
    await pool.close();
  });

  test('a worker checkpoints the WAL (query-only connections may), and still refuses writes', async () => {
    const file = database();
    const writer = new Database(file);
    writer.pragma('wal_autocheckpoint = 0');
    writer.transaction(() => {
      for (let i = 0; i < 2000; i++) writer.prepare('INSERT INTO t VALUES (?)').run(i);
    })();
    const pool = new ReadPool({ file, size: 1, idleMs: 0, workerFile: WORKER });
    const outcome = await pool.get<{ busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)');
    expect(outcome!.log).toBeGreaterThan(0);
    expect(outcome!.checkpointed).toBe(outcome!.log);
    await expect(pool.all('DELETE FROM t RETURNING n')).rejects.toThrow(/readonly/);
    await pool.close();
    writer.close();
  });

  test('a query in flight keeps the process alive until it is answered; idle workers never do', () => {
    // Nothing else holds this child's event loop: the only thing left is the query on a fresh worker.
    const script = `
      const { ReadPool } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', '..', 'dist', 'app', 'store', 'read-pool.js'))});
      const pool = new ReadPool({ file: ${JSON.stringify(database())}, size: 1, idleMs: 0 });
      pool.get('SELECT SUM(n) AS s FROM t').then((row) => console.log('answered', row.s));
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stdout).toContain('answered 6');
    expect(child.status).toBe(0); // and then it exits: the idle worker does not hold it
  });
});
