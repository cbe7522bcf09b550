import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Checkpointer, type CheckpointOutcome } from '../../../app/store/checkpointer';
import { ReadPool } from '../../../app/store/read-pool';

// WAL checkpoints run on a pool worker once the WAL passes its size, never on the writer
// connection (whose automatic checkpoint is off), and the WAL file is emptied on that worker too:
// the writer (journal_size_limit = -1, as database.ts sets it) never cuts it inside a COMMIT.

const WORKER = path.resolve(__dirname, '..', '..', '..', 'dist', 'app', 'store', 'read-worker.js');

test('past walBytes a commit leads to a checkpoint on a worker, which then empties the WAL file itself', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-ckpt-')), 'c.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('journal_size_limit = -1');
  db.exec('CREATE TABLE t (v TEXT)');
  const pool = new ReadPool({ file, size: 1, idleMs: 0, workerFile: WORKER });
  const outcomes: CheckpointOutcome[] = [];
  const checkpointer = new Checkpointer(pool, { walFile: `${file}-wal`, walBytes: 256 * 1024, checkEveryMs: 10, onCheckpoint: (o) => outcomes.push(o) });
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  // Small commits below the threshold: looked at, never checkpointed.
  insert.run('small');
  checkpointer.committed();
  await new Promise((r) => setTimeout(r, 50));
  expect(outcomes).toEqual([]);
  expect(pool.stats().alive).toBe(0); // no worker was started for a look at the WAL's size
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run('x'.repeat(200));
  })();
  const walBefore = fs.statSync(`${file}-wal`).size;
  expect(walBefore).toBeGreaterThan(256 * 1024);
  checkpointer.committed();
  // PASSIVE copies every frame, then TRUNCATE (on the same worker) empties the file: no writer
  // transaction is needed, so none pays for cutting it.
  const deadline = Date.now() + 15_000;
  while (outcomes.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(outcomes).toHaveLength(2);
  expect(outcomes[0].checkpointed).toBe(outcomes[0].log);
  expect(outcomes[0].log).toBeGreaterThan(0);
  expect(outcomes[1]).toEqual({ busy: 0, log: 0, checkpointed: 0 });
  expect(fs.statSync(`${file}-wal`).size).toBe(0);
  insert.run('after');
  expect(fs.statSync(`${file}-wal`).size).toBeLessThan(walBefore);
  expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(3002);
  checkpointer.close();
  await pool.close();
  db.close();
}, 60_000);
