import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decryptFile, encryptFile, FileDataKey } from '../../app/crypto/backup-cipher';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';

// Backups and the audit log. The checkpoint file is not in a backup; `beep restore` checks the
// restored chain under the audit key and records the rollback (an `audit_restored` entry and a
// signed checkpoint record) only when it is whole. A backup whose audit log was rewritten —
// here even by someone holding backup.key, but not audit.key — is detected by `beep audit verify`.

let daemon: RunningDaemon;
let backup: string;
let headAtBackup: number;

const events = async (d: RunningDaemon) => (await d.admin('GET', '/api/v1/audit?limit=500')).body as { seq: number; event: string; details: Record<string, unknown> }[];

beforeAll(async () => {
  daemon = await startDaemon();
  for (const name of ['ci', 'nas']) await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', name });
  headAtBackup = (await events(daemon))[0].seq;
  backup = path.join(tempDir('beep-audit-backups-'), 'before.beepbak');
  expect((await daemon.cli(['backup', backup])).status).toBe(0);
  for (const name of ['later-1', 'later-2']) await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', name });
  await daemon.stop();
});

afterAll(async () => {
  await daemon?.stop();
});

test('restoring an older, untouched backup is a recorded rollback: the log verifies and says so', async () => {
  const restored = await daemon.cli(['restore', backup]);
  expect(restored.status).toBe(0);
  expect(restored.stderr).toBe('');
  expect(restored.stdout).toMatch(/audit log intact: \d+ (entry|entries) verified; the restore is recorded in it/);
  expect(await daemon.cli(['audit', 'verify'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^audit log intact/) });

  daemon = await daemon.restart();
  const rollback = (await events(daemon)).find((e) => e.event === 'audit_restored');
  expect(rollback).toMatchObject({ seq: headAtBackup + 1, details: { restoredThrough: headAtBackup, replacedHead: headAtBackup + 2 } });
  await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', name: 'after restore' });
  await daemon.stop();
  expect((await daemon.cli(['audit', 'verify'])).status).toBe(0);
});

test('a backup whose audit log was rewritten is restored with a warning, and `beep audit verify` names the entry', async () => {
  // The attacker opens the backup (with backup.key), rewrites entry 2, recomputes the old
  // public hash chain, and seals it again.
  const work = tempDir('beep-audit-forged-');
  const plain = path.join(work, 'plain.db');
  const keys = FileDataKey.inDataDir(daemon.dataDir);
  await decryptFile(backup, plain, keys);
  const db = new Database(plain);
  db.exec('DROP TRIGGER audit_log_no_update');
  db.prepare("UPDATE audit_log SET actor = 'ip:10.9.9.9' WHERE seq = 2").run();
  let prev = '0'.repeat(64);
  for (const r of db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as { seq: number; at_ms: number; event: string; actor: string; details: string }[]) {
    const hash = crypto.createHash('sha256').update(JSON.stringify([prev, r.seq, r.at_ms, r.event, r.actor, r.details])).digest('hex');
    db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, r.seq);
    prev = hash;
  }
  db.close();
  const forged = path.join(work, 'forged.beepbak');
  await encryptFile(plain, forged, keys);

  const restored = await daemon.cli(['restore', forged]);
  expect(restored.status).toBe(0); // the data is back; the audit problem is reported, not hidden
  expect(restored.stderr).toMatch(/warning: audit log broken at entry 2: altered/);
  const verdict = await daemon.cli(['audit', 'verify']);
  expect(verdict.status).toBe(1);
  expect(verdict.stderr).toMatch(/^audit log broken at entry 2: altered/);
  const checkpoint = fs.readFileSync(path.join(daemon.dataDir, 'audit.checkpoint'), 'utf8').trim().split('\n');
  expect(checkpoint[checkpoint.length - 1]).not.toContain('"restored"'); // no rollback recorded for it
});
