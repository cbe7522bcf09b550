import Database from 'better-sqlite3';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// The audit log under attack: someone with write access to the database edits an entry (after
// dropping the append-only trigger); `beep audit verify` must name that entry.

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

test('security events are recorded: config on first start, a wrong admin token, a failed pairing', async () => {
  await daemon.admin('GET', '/api/v1/devices', undefined, { authorization: 'Bearer wrong' });
  await daemon.gateway('POST', '/api/v1/pair', { code: '00000000', name: 'x', platform: 'test' });
  const list = await daemon.admin('GET', '/api/v1/audit?limit=10');
  expect(list.status).toBe(200);
  const events = list.body.map((e: { event: string }) => e.event);
  expect(events).toEqual(expect.arrayContaining(['config_changed', 'auth_failed', 'pairing_failed']));
  const ok = await daemon.cli(['audit', 'verify']);
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/audit log intact: \d+ entries verified/);
});

test('an edited entry is found: `beep audit verify` names it and exits 1', async () => {
  const db = new Database(path.join(daemon.dataDir, 'beep.db'));
  try {
    expect(() => db.prepare("UPDATE audit_log SET actor = 'ip:10.9.9.9' WHERE seq = 2").run()).toThrow(/append-only/);
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare("UPDATE audit_log SET actor = 'ip:10.9.9.9' WHERE seq = 2").run();
  } finally {
    db.close();
  }
  const verdict = await daemon.cli(['audit', 'verify']);
  expect(verdict.status).toBe(1);
  expect(verdict.stderr).toMatch(/broken at entry 2: altered/);
});

test('the audit list route is behind the admin token', async () => {
  const res = await daemon.admin('GET', '/api/v1/audit', undefined, { authorization: '' });
  expect(res.status).toBe(401);
  const bad = await daemon.admin('GET', '/api/v1/audit?limit=0');
  expect(bad.body.error.code).toBe('invalid_query');
});
