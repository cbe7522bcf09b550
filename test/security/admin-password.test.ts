import Database from 'better-sqlite3';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// `beep admin password set` against the real daemon: an over-long password is refused with a
// clear error (never truncated), a good one is stored as a bcrypt-12 hash, audited, never logged.

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon({ env: { BEEP_LOG_LEVEL: 'debug' } });
});

afterAll(async () => {
  await daemon?.stop();
});

test('a bcrypt password over 72 bytes is refused with a clear error and nothing is stored', async () => {
  const res = await daemon.cli(['admin', 'password', 'set'], { input: `${'p'.repeat(80)}\n` });
  expect(res.status).toBe(1);
  expect(res.stderr).toMatch(/80 bytes.*at most 72.*refused rather than silently truncated.*\[password_invalid\]/);
  const nul = await daemon.admin('PUT', '/api/v1/admin/password', { password: 'abcdefghijkl\u0000mnop' });
  expect({ status: nul.status, code: nul.body.error.code }).toEqual({ status: 400, code: 'password_invalid' });
  const db = new Database(path.join(daemon.dataDir, 'beep.db'), { readonly: true });
  expect(db.prepare('SELECT COUNT(*) AS n FROM admin_credentials').get()).toEqual({ n: 0 });
  db.close();
});

test('a good password is stored as a bcrypt cost-12 hash with a sealed TOTP secret; audited; never logged', async () => {
  const password = 'a long dashboard passphrase';
  const res = await daemon.cli(['admin', 'password', 'set', '--totp'], { input: `${password}\n` });
  expect(res.status).toBe(0);
  expect(res.stdout).toMatch(/otpauth:\/\/totp\/Beep\?secret=[A-Z2-7]{32}/);
  const secret = /secret=([A-Z2-7]+)/.exec(res.stdout)![1];
  const db = new Database(path.join(daemon.dataDir, 'beep.db'), { readonly: true });
  const row = db.prepare('SELECT password_hash, totp_secret FROM admin_credentials').get() as { password_hash: string; totp_secret: string };
  db.close();
  expect(row.password_hash).toMatch(/^\$2b\$12\$/);
  expect(row.totp_secret).toMatch(/^e1:/);
  expect(row.totp_secret).not.toContain(secret);
  const audit = (await daemon.admin('GET', '/api/v1/audit?limit=10')).body;
  expect(audit).toContainEqual(expect.objectContaining({ event: 'admin_password_set', details: { totp: true } }));
  expect(JSON.stringify(audit)).not.toContain(password);
  expect(daemon.logs()).not.toContain(password);
  expect(daemon.logs()).not.toContain(secret);
});
