import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadOrCreateAuditKey } from '../../app/crypto/audit-key';
import { AuditKey, type AuditEvent } from '../../app/domain/audit-chain';
import { AuditLog, type AuditStore } from '../../app/observability/audit-log';
import { CheckpointFile } from '../../app/store/audit-checkpoint-file';
import { AuditRepository } from '../../app/store/audit-repository';
import { openDatabase, type Db } from '../../app/store/database';
import type { ReadPool } from '../../app/store/read-pool';
import { tempDir, type CliResult } from '../helpers/daemon';

// Retention: entries older than audit.retentionDays are pruned behind a signed anchor, and the
// chain still verifies from it (the real `beep audit verify` on the files); pruning never
// deletes a bad entry; and an attacker cannot move the anchor or cut the kept part unseen.
// The clock is injected (seven years pass in a test), so the AuditLog runs in-process on a
// real database; the read pool is replaced by the same queries on the main connection.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');
const DAY = 86_400_000;
const RETENTION_DAYS = 7 * 365;
const T0 = Date.UTC(2020, 0, 1);

function cli(dataDir: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, '--data-dir', dataDir, ...args], { env: { PATH: process.env.PATH, HOME: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The AuditStore port over a repository, writes in a transaction (what Store does through its group writer). */
function auditStore(db: Db): AuditStore {
  const pool = { all: async (sql: string, params: unknown[] = []) => db.prepare(sql).all(...params) } as unknown as ReadPool;
  const repo = new AuditRepository(db, pool);
  const write = <T>(fn: () => T) => Promise.resolve(db.transaction(fn)());
  return {
    appendAudit: (input, atMs, key) => write(() => repo.append(input, atMs, key)),
    auditEntries: (limit, before) => repo.list(limit, before),
    auditPage: (after, limit) => repo.page(after, limit),
    auditAnchor: async () => repo.anchor(),
    auditCounts: async () => repo.counts(),
    auditRecordedSince: async (event, actor, since) => repo.recordedSince(event, actor, since),
    upgradeUnkeyedAudit: (key, at) => write(() => repo.upgradeUnkeyed(key, at)),
    pruneAudit: (cutoff, maxSeq, at, key) => write(() => repo.prune(cutoff, maxSeq, at, key)),
  };
}

/** A data directory with a keyed log: 5 entries at T0, 3 three years later; the clock then moves on. */
async function dataDirWithHistory(tamper?: (db: Db) => void) {
  const dir = tempDir('beep-audit-retention-');
  const db = openDatabase({ file: path.join(dir, 'beep.db'), durability: 'normal' });
  const clock = { now: T0 };
  const audit = new AuditLog(auditStore(db), {
    key: new AuditKey(loadOrCreateAuditKey(path.join(dir, 'keys'))),
    checkpoint: CheckpointFile.inDataDir(dir),
    failureWindowMs: 600_000,
    maxOpenWindows: 100,
    retentionMs: RETENTION_DAYS * DAY,
    maintenanceEveryMs: 3_600_000,
    compactAboveBytes: 1024 * 1024,
    now: () => clock.now,
    onError: (e) => {
      throw e;
    },
  });
  await audit.open();
  const record = async (n: number, event: AuditEvent) => {
    for (let i = 0; i < n; i++) {
      clock.now += 60_000;
      await audit.record(event, 'admin', { i });
    }
  };
  await record(5, 'device_revoked');
  clock.now = T0 + 3 * 365 * DAY;
  await record(3, 'api_token_revoked');
  tamper?.(db);
  clock.now = T0 + (RETENTION_DAYS + 1) * DAY; // the first five are past retention, the other three are not
  return { dir, db, audit };
}

const rows = (db: Db) => db.prepare('SELECT seq, event FROM audit_log ORDER BY seq').all() as { seq: number; event: string }[];

/** A copy of `dir` with beep.db changed by someone who can write it but not read keys/. */
function attacked(dir: string, change: (db: Database.Database) => void): string {
  const copy = tempDir('beep-audit-retention-attack-');
  fs.cpSync(dir, copy, { recursive: true });
  const db = new Database(path.join(copy, 'beep.db'));
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete');
  change(db);
  db.close();
  return copy;
}

test('seven years on, the old entries are pruned behind a signed anchor and the chain still verifies', async () => {
  const { dir, db, audit } = await dataDirWithHistory();
  expect((await audit.verify()).ok).toBe(true);
  await audit.maintain();
  expect(rows(db)).toEqual([
    { seq: 6, event: 'api_token_revoked' },
    { seq: 7, event: 'api_token_revoked' },
    { seq: 8, event: 'api_token_revoked' },
    { seq: 9, event: 'audit_pruned' },
  ]);
  expect(db.prepare('SELECT seq FROM audit_anchor').get()).toEqual({ seq: 5 });
  expect(await audit.verify()).toMatchObject({ ok: true, checked: 4, firstSeq: 6, head: { seq: 9 } });
  // The verified checkpoint file was compacted to its head.
  expect(fs.readFileSync(path.join(dir, 'audit.checkpoint'), 'utf8').trim().split('\n')).toHaveLength(1);
  await audit.stop();
  db.close();

  const verdict = await cli(dir, ['audit', 'verify']);
  expect(verdict).toMatchObject({ status: 0, stdout: 'audit log intact: 4 entries verified (entries 6..9; older ones pruned behind a signed anchor)\n' });

  // After pruning, the anchor can be neither dropped, moved nor followed by a cut.
  const noAnchor = await cli(attacked(dir, (d) => d.exec('DELETE FROM audit_anchor')), ['audit', 'verify']);
  expect(noAnchor.stderr).toMatch(/^audit log broken at entry 1: missing/);
  const moved = await cli(attacked(dir, (d) => d.exec('UPDATE audit_anchor SET seq = 6, mac = (SELECT mac FROM audit_log WHERE seq = 6); DELETE FROM audit_log WHERE seq = 6')), ['audit', 'verify']);
  expect(moved.stderr).toMatch(/^audit log broken at entry 6: anchor_forged/);
  const cut = await cli(attacked(dir, (d) => d.exec('DELETE FROM audit_log WHERE seq = 6')), ['audit', 'verify']);
  expect(cut.stderr).toMatch(/^audit log broken at entry 6: missing/);
  for (const v of [noAnchor, moved, cut]) expect(v.status).toBe(1);
});

test('pruning never deletes a bad entry: it stops before it, and verify keeps naming it', async () => {
  const { db, audit } = await dataDirWithHistory((d) => {
    d.exec('DROP TRIGGER audit_log_no_update');
    d.prepare("UPDATE audit_log SET actor = 'ip:10.9.9.9' WHERE seq = 3").run();
  });
  await audit.maintain();
  const verdict = await audit.verify();
  expect(verdict).toMatchObject({ ok: false, seq: 3, problem: 'altered' });
  expect(rows(db).map((r) => r.seq)).toEqual([3, 4, 5, 6, 7, 8, 9]); // 1 and 2 pruned, 3 kept as evidence
  expect(db.prepare('SELECT seq FROM audit_anchor').get()).toEqual({ seq: 2 });
  await audit.stop();
  db.close();
});
