import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir, type CliResult, type RunningDaemon } from '../helpers/daemon';

// The audit log under attack. The attacker can write beep.db (the daemon stopped) but cannot
// read <data dir>/keys/: they drop the append-only triggers, rewrite, delete or cut entries
// and recompute the old public SHA-256 chain as if it were still the rule. Each time the real
// `beep audit verify` must exit 1 naming the first bad entry; the untouched log verifies.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');

/** The real CLI on any data directory (the daemon need not run). */
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

/** What an attacker who knows the old rule recomputes after an edit: the unkeyed SHA-256 links. */
function recomputeOldChain(db: Database.Database): void {
  let prev = '0'.repeat(64);
  for (const r of db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as { seq: number; at_ms: number; event: string; actor: string; details: string }[]) {
    const hash = crypto.createHash('sha256').update(JSON.stringify([prev, r.seq, r.at_ms, r.event, r.actor, r.details])).digest('hex');
    db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, r.seq);
    prev = hash;
  }
}

let pristine: string;
let entries: number;

/** A copy of the stopped daemon's data directory, beep.db tampered with as the attacker would. */
function tampered(tamper: (db: Database.Database) => void): string {
  const dir = tempDir('beep-audit-attack-');
  fs.cpSync(pristine, dir, { recursive: true });
  const db = new Database(path.join(dir, 'beep.db'));
  try {
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete');
    tamper(db);
    db.prepare("UPDATE sqlite_sequence SET seq = (SELECT COALESCE(max(seq), 0) FROM audit_log) WHERE name = 'audit_log'").run();
    recomputeOldChain(db);
  } finally {
    db.close();
  }
  return dir;
}

describe('a live daemon', () => {
  let daemon: RunningDaemon;

  beforeAll(async () => {
    daemon = await startDaemon();
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  test('records security events (failures as counted windows) and its log verifies while it runs', async () => {
    await daemon.admin('GET', '/api/v1/devices', undefined, { authorization: 'Bearer wrong' });
    await daemon.gateway('POST', '/api/v1/pair', { code: '00000000', name: 'x', platform: 'test' });
    const list = await daemon.admin('GET', '/api/v1/audit?limit=10');
    expect(list.status).toBe(200);
    const events = list.body.map((e: { event: string }) => e.event);
    expect(events).toEqual(expect.arrayContaining(['config_changed', 'auth_failed', 'pairing_failed']));
    expect(list.body.find((e: { event: string }) => e.event === 'auth_failed')).toMatchObject({ seq: null, pending: true, details: { count: 1 } });
    const ok = await daemon.cli(['audit', 'verify']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/audit log intact: \d+ (entry|entries) verified/);
    expect((await daemon.admin('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
    expect(daemon.logs()).not.toMatch(/audit log broken/); // the check at start (done: verify waits for it) found nothing
  });

  test('the audit list route is behind the admin token', async () => {
    const res = await daemon.admin('GET', '/api/v1/audit', undefined, { authorization: '' });
    expect(res.status).toBe(401);
    const bad = await daemon.admin('GET', '/api/v1/audit?limit=0');
    expect(bad.body.error.code).toBe('invalid_query');
  });
});

describe('beep.db rewritten by someone without keys/', () => {
  beforeAll(async () => {
    const daemon = await startDaemon();
    for (const name of ['ci', 'backups', 'nas']) await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', name });
    const tokens = (await daemon.admin('GET', '/api/v1/tokens')).body as { id: number }[];
    await daemon.admin('DELETE', `/api/v1/tokens/${tokens[0].id}`);
    await daemon.admin('GET', '/api/v1/devices', undefined, { authorization: 'Bearer wrong' });
    await daemon.gateway('POST', '/api/v1/pair', { code: '00000000', name: 'x', platform: 'test' });
    expect(await daemon.stop()).toBe(0); // a clean stop writes the open failure windows
    pristine = daemon.dataDir;
    const db = new Database(path.join(pristine, 'beep.db'), { readonly: true });
    entries = (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    db.close();
    expect(entries).toBeGreaterThanOrEqual(7);
  });

  test('the untouched log verifies, with the daemon stopped', async () => {
    const verdict = await cli(pristine, ['audit', 'verify']);
    expect(verdict).toMatchObject({ status: 0, stdout: `audit log intact: ${entries} entries verified\n` });
  });

  test('an entry rewritten (old hashes recomputed) is named: altered', async () => {
    const dir = tampered((db) => db.prepare("UPDATE audit_log SET actor = 'ip:10.9.9.9' WHERE seq = 3").run());
    const verdict = await cli(dir, ['audit', 'verify']);
    expect(verdict.status).toBe(1);
    expect(verdict.stderr).toMatch(/^audit log broken at entry 3: altered/);
  });

  test('an entry deleted is named: missing; deleted and the rest renumbered: the first renumbered one', async () => {
    const gap = await cli(tampered((db) => db.prepare('DELETE FROM audit_log WHERE seq = 3').run()), ['audit', 'verify']);
    expect(gap.status).toBe(1);
    expect(gap.stderr).toMatch(/^audit log broken at entry 3: missing/);
    const renumbered = tampered((db) => {
      db.prepare('DELETE FROM audit_log WHERE seq = 3').run();
      db.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 3').run();
    });
    const verdict = await cli(renumbered, ['audit', 'verify']);
    expect(verdict.status).toBe(1);
    expect(verdict.stderr).toMatch(/^audit log broken at entry 3: altered/);
  });

  test('the tail cut off is named: truncated after the last entry left', async () => {
    const verdict = await cli(tampered((db) => db.prepare('DELETE FROM audit_log WHERE seq > 4').run()), ['audit', 'verify']);
    expect(verdict.status).toBe(1);
    expect(verdict.stderr).toMatch(new RegExp(`^audit log broken at entry 5: truncated \\(truncated after entry 4: the checkpoint file records entry ${entries}`));
    const emptied = await cli(tampered((db) => db.prepare('DELETE FROM audit_log').run()), ['audit', 'verify']);
    expect(emptied.status).toBe(1);
    expect(emptied.stderr).toMatch(/^audit log broken at entry 1: truncated \(truncated after entry 0/);
  });

  test('the tail cut off, then the daemon writes on: the checkpoint file shows where it went back', async () => {
    const dir = tampered((db) => db.prepare('DELETE FROM audit_log WHERE seq > 4').run());
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ audit: { failureWindowSec: 300 } })); // a config change: a new entry 5
    const daemon = await startDaemon({ dataDir: dir });
    // The daemon's own check (at start, and the admin route queued behind it) says so too.
    expect((await daemon.admin('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: false, seq: 5, problem: 'checkpoint_regressed' });
    for (let i = 0; i < 200 && !/audit log broken/.test(daemon.logs()); i++) await new Promise((r) => setTimeout(r, 50)); // the line may trail the answer
    expect(daemon.logs()).toMatch(/audit log broken/);
    await daemon.stop();
    const verdict = await cli(dir, ['audit', 'verify']);
    expect(verdict.status).toBe(1);
    expect(verdict.stderr).toMatch(new RegExp(`^audit log broken at entry 5: checkpoint_regressed \\(the checkpoint file went back from entry ${entries} to entry 5`));
  });

  test('an entry forged in, and every MAC stripped (a downgrade to the old chain), are named', async () => {
    const forged = tampered((db) =>
      db.prepare("INSERT INTO audit_log (seq, at_ms, event, actor, details, prev_hash, hash, mac) VALUES (?, ?, 'device_revoked', 'admin', '{}', '', '', ?)").run(entries + 1, Date.now(), 'ab'.repeat(32)),
    );
    const verdict = await cli(forged, ['audit', 'verify']);
    expect(verdict.status).toBe(1);
    expect(verdict.stderr).toMatch(new RegExp(`^audit log broken at entry ${entries + 1}: altered`));
    const stripped = await cli(tampered((db) => db.prepare('UPDATE audit_log SET mac = NULL').run()), ['audit', 'verify']);
    expect(stripped.status).toBe(1);
    expect(stripped.stderr).toMatch(/^audit log broken at entry 1: unsigned/);
  });
});

describe('a log from before the key', () => {
  test('is checked once and keyed at the first start; the old entries stay verifiable', async () => {
    // A database as the previous version left it: migrations up to 006, entries on the unkeyed chain.
    const dir = tempDir('beep-audit-legacy-');
    const migrations = tempDir('beep-migrations-');
    const source = path.resolve(__dirname, '..', '..', 'app', 'store', 'migrations');
    for (const f of fs.readdirSync(source).filter((f) => /^00[1-6]_/.test(f))) fs.copyFileSync(path.join(source, f), path.join(migrations, f));
    const { migrate } = await import('../../app/store/database');
    const db = new Database(path.join(dir, 'beep.db'));
    migrate(db, migrations);
    let prev = '0'.repeat(64);
    for (let seq = 1; seq <= 4; seq++) {
      const row = { seq, at_ms: 1_700_000_000_000 + seq, event: 'device_revoked', actor: 'admin', details: JSON.stringify({ deviceId: `d${seq}` }) };
      const hash = crypto.createHash('sha256').update(JSON.stringify([prev, row.seq, row.at_ms, row.event, row.actor, row.details])).digest('hex');
      db.prepare('INSERT INTO audit_log (seq, at_ms, event, actor, details, prev_hash, hash) VALUES (@seq, @at_ms, @event, @actor, @details, @prev, @hash)').run({ ...row, prev, hash });
      prev = hash;
    }
    db.close();
    expect(await cli(dir, ['audit', 'verify'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/4 entries verified \(the old unkeyed chain/) });

    const daemon = await startDaemon({ dataDir: dir });
    const list = (await daemon.admin('GET', '/api/v1/audit?limit=50')).body as { seq: number; event: string; details: Record<string, unknown> }[];
    expect(list.find((e) => e.event === 'audit_chain_keyed')).toMatchObject({ seq: 5, details: { legacyEntries: 4, legacyHead: prev } });
    await daemon.stop();
    expect(await cli(dir, ['audit', 'verify'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^audit log intact: \d+ (entry|entries) verified\n$/) });
    // Keyed now: the old entries can no longer be rewritten by recomputing the old hashes.
    pristine = dir;
    const verdict = await cli(tampered((d) => d.prepare("UPDATE audit_log SET details = '{\"deviceId\":\"x\"}' WHERE seq = 2").run()), ['audit', 'verify']);
    expect(verdict.stderr).toMatch(/^audit log broken at entry 2: altered/);
  });
});
