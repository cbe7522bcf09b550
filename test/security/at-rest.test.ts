import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// What a thief of the disk finds: no notification text or device name in the database or its
// WAL, values that cannot be moved between rows, keys readable by the owner only, and a key
// rotation that survives kill -9 halfway and loses nothing.

let daemon: RunningDaemon;
const marker = crypto.randomBytes(6).toString('hex');
const secretText = { title: `title-${marker}`, body: `body-${marker}`, app: `app-${marker}`, tags: [`tag-${marker}`] };

afterAll(async () => {
  await daemon?.stop();
});

function dbFiles(dir: string): Buffer {
  return Buffer.concat(['beep.db', 'beep.db-wal', 'beep.db-shm'].filter((f) => fs.existsSync(path.join(dir, f))).map((f) => fs.readFileSync(path.join(dir, f))));
}

test('the database and WAL hold no notification text and no device name; the API still reads them', async () => {
  daemon = await startDaemon({ config: { encryption: { rotationBatchSize: 10, rotationPauseMs: 20 } } });
  await Phone.paired(daemon, `phone-${marker}`);
  const posted = await daemon.admin('POST', '/api/v1/notifications', secretText);
  expect(posted.status).toBe(202);
  const files = dbFiles(daemon.dataDir);
  expect(files.length).toBeGreaterThan(0);
  for (const plain of [secretText.title, secretText.body, secretText.app, secretText.tags[0], `phone-${marker}`, marker]) {
    expect({ plain, found: files.includes(Buffer.from(plain)) }).toEqual({ plain, found: false });
  }
  const history = await daemon.admin('GET', '/api/v1/notifications?limit=1');
  expect(history.body[0]).toMatchObject(secretText);
  const devices = await daemon.admin('GET', '/api/v1/devices');
  expect(devices.body.map((d: { name: string }) => d.name)).toContain(`phone-${marker}`);
});

test('a sealed value moved to another row does not open there (associated data binds it)', async () => {
  await daemon.admin('POST', '/api/v1/notifications', { title: 'other row' });
  const db = new Database(path.join(daemon.dataDir, 'beep.db'));
  const [newer, older] = db.prepare('SELECT seq, title FROM notifications ORDER BY seq DESC LIMIT 2').all() as { seq: number; title: string }[];
  db.prepare('UPDATE notifications SET title = ? WHERE seq = ?').run(older.title, newer.seq);
  const swapped = await daemon.admin('GET', '/api/v1/notifications?limit=1');
  expect(swapped.status).toBe(500);
  expect(swapped.text).not.toContain(secretText.title);
  db.prepare('UPDATE notifications SET title = ? WHERE seq = ?').run(newer.title, newer.seq);
  db.close();
  expect((await daemon.admin('GET', '/api/v1/notifications?limit=1')).body[0].title).toBe('other row');
});

test('key and token files are owner-only', () => {
  const mode = (f: string) => fs.statSync(path.join(daemon.dataDir, f)).mode & 0o777;
  expect(mode('keys')).toBe(0o700);
  expect(mode('keys/master.key')).toBe(0o600);
  expect(fs.statSync(path.join(daemon.dataDir, 'keys/master.key')).size).toBe(32);
  expect(mode('admin.token')).toBe(0o600);
  for (const f of fs.readdirSync(path.join(daemon.dataDir, 'keys'))) expect({ f, mode: mode(`keys/${f}`) }).toEqual({ f, mode: 0o600 });
  for (const f of ['beep.db', 'beep.db-wal']) expect({ f, mode: mode(f) }).toEqual({ f, mode: 0o600 });
});

test('`beep keys rotate` killed halfway (kill -9 of the daemon) resumes and loses nothing', async () => {
  const titles = Array.from({ length: 300 }, (_, i) => `rot-${marker}-${i}`);
  for (let i = 0; i < titles.length; i += 50) {
    await Promise.all(titles.slice(i, i + 50).map((title) => daemon.admin('POST', '/api/v1/notifications', { title, body: `b-${title}` })));
  }
  const started = await daemon.admin('POST', '/api/v1/keys/rotate');
  expect(started.status).toBe(202);
  const target = started.body.keyId;
  for (;;) {
    const p = (await daemon.admin('GET', '/api/v1/keys/rotation')).body;
    expect(p.running).toBe(true);
    if (p.done >= 60) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  // Accepted while rotating: written under the new key already.
  expect((await daemon.admin('POST', '/api/v1/notifications', { title: `during-${marker}` })).status).toBe(202);
  await daemon.kill();

  daemon = await daemon.restart();
  // The restarted daemon resumes the interrupted rotation by itself, from its saved cursor.
  const finishedFor = async (keyId: string) => {
    for (let i = 0; i < 300; i++) {
      const audit = (await daemon.admin('GET', '/api/v1/audit?limit=50')).body as { event: string; details: { keyId?: string } }[];
      if (audit.some((e) => e.event === 'data_key_rotation_finished' && e.details.keyId === keyId)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`rotation to ${keyId} did not finish`);
  };
  await finishedFor(target);
  expectAllUnder(target);
  await expectNothingLost();

  // And `beep keys rotate` from the CLI: a full rotation drawn to the end with a progress bar.
  const cli = await daemon.cli(['keys', 'rotate']);
  expect(cli.status).toBe(0);
  const next = /rotating to data key (\S+)/.exec(cli.stdout)![1];
  expect(next).not.toBe(target);
  expect(cli.stderr).toMatch(/\[#+\] 100%/);
  expect(cli.stdout).toContain(`now encrypted under data key ${next}`);
  expectAllUnder(next);
  await expectNothingLost();
  const audit = (await daemon.admin('GET', '/api/v1/audit?limit=50')).body.map((e: { event: string }) => e.event);
  expect(audit).toEqual(expect.arrayContaining(['data_key_rotation_started', 'data_key_rotation_finished']));

  async function expectNothingLost() {
    const history = (await daemon.admin('GET', '/api/v1/notifications?limit=500')).body as { title: string; body: string }[];
    const seen = new Set(history.map((n) => n.title));
    expect(titles.filter((t) => !seen.has(t))).toEqual([]);
    expect(seen.has(`during-${marker}`)).toBe(true);
    expect(history.find((n) => n.title === titles[7])!.body).toBe(`b-${titles[7]}`);
  }
});

/** Every sealed value names `keyId`, and it is the only data key left. */
function expectAllUnder(keyId: string): void {
  const db = new Database(path.join(daemon.dataDir, 'beep.db'), { readonly: true });
  const keysLeft = db.prepare('SELECT id FROM data_keys').all() as { id: string }[];
  const like = `e1:${keyId}:%`;
  const stale = db
    .prepare('SELECT COUNT(*) AS n FROM notifications WHERE title NOT LIKE ? OR body NOT LIKE ? OR app NOT LIKE ? OR tags NOT LIKE ?')
    .get(like, like, like, like) as { n: number };
  const staleDevices = db.prepare('SELECT COUNT(*) AS n FROM devices WHERE name NOT LIKE ?').get(like) as { n: number };
  db.close();
  expect(keysLeft).toEqual([{ id: keyId }]);
  expect(stale.n).toBe(0);
  expect(staleDevices.n).toBe(0);
}

test('a passphrase-derived master key: no key file; a wrong passphrase refuses to start with a clear error', async () => {
  await daemon.stop();
  const env = { BEEP_MASTER_PASSPHRASE: 'correct horse battery staple' };
  const withPass = await startDaemon({ env });
  try {
    expect(fs.existsSync(path.join(withPass.dataDir, 'keys/master.key'))).toBe(false);
    expect(fs.statSync(path.join(withPass.dataDir, 'keys/master.salt')).mode & 0o777).toBe(0o600);
    expect((await withPass.admin('POST', '/api/v1/notifications', { title: 'sealed by passphrase' })).status).toBe(202);
  } finally {
    await withPass.stop();
  }
  await expect(startDaemon({ dataDir: withPass.dataDir, env: { BEEP_MASTER_PASSPHRASE: 'wrong horse battery staple' } })).rejects.toThrow(
    /wrong master key or passphrase/,
  );
  const again = await startDaemon({ dataDir: withPass.dataDir, env });
  expect((await again.admin('GET', '/api/v1/notifications?limit=1')).body[0].title).toBe('sealed by passphrase');
  daemon = again;
});
