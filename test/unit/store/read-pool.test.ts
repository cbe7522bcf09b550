import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ReadError, ReadPool } from '../../../app/store/read-pool';

// The read pool runs queries on worker threads (the compiled worker from dist/), reports how
// long each waited for a connection, and heals when a worker dies.

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
    const pool = new ReadPool({ file: database(), size: 2, workerFile: WORKER, onAcquire: (s) => waits.push(s) });
    const results = await Promise.all(Array.from({ length: 10 }, () => pool.all<{ n: number }>('SELECT n FROM t ORDER BY n')));
    for (const rows of results) expect(rows.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(await pool.get<{ s: number }>('SELECT SUM(n) AS s FROM t')).toEqual({ s: 6 });
    expect(waits).toHaveLength(11);
    expect(pool.stats()).toEqual({ size: 2, alive: 2, busy: 0, waiting: 0 });
    await pool.close();
  });

  test('read-only: a write fails with a ReadError, and bad SQL too', async () => {
    const pool = new ReadPool({ file: database(), size: 1, workerFile: WORKER });
    await expect(pool.all('INSERT INTO t VALUES (4)')).rejects.toBeInstanceOf(ReadError);
    await expect(pool.all('SELECT nope FROM t')).rejects.toThrow(/no such column/);
    expect(await pool.all('SELECT n FROM t')).toHaveLength(3);
    await pool.close();
  });

  test('a worker that dies fails its query and is replaced', async () => {
    const pool = new ReadPool({ file: database(), size: 1, workerFile: WORKER });
    const slot = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0];
    await slot.worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.stats().alive).toBe(1);
    expect(await pool.all('SELECT n FROM t')).toHaveLength(3);
    await pool.close();
    await expect(pool.all('SELECT 1')).rejects.toThrow(/closed/);
  });
});
