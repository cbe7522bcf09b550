import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FieldCipher, type WrappedKey } from '../../app/crypto/field-cipher';
import { createToken } from '../helpers/compat';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// What a thief of the disk finds: no notification text (title, body, app, tags, click URL,
// icon) or device name in the database or its WAL, one seal per notification row that cannot
// be moved to another row, keys readable by the owner only, and a key rotation that survives
// kill -9 halfway and loses nothing.

let daemon: RunningDaemon;
const marker = crypto.randomBytes(6).toString('hex');
const secretText = { title: `title-${marker}`, body: `body-${marker}`, app: `app-${marker}`, tags: [`tag-${marker}`] };

afterAll(async () => {
  await daemon?.stop();
});

function dbFiles(dir: string): Buffer {
  return Buffer.concat(['beep.db', 'beep.db-wal', 'beep.db-shm'].filter((f) => fs.existsSync(path.join(dir, f))).map((f) => fs.readFileSync(path.join(dir, f))));
}

test('the database and WAL hold no notification text (click URL and icon included) and no device name; the API still reads them', async () => {
  daemon = await startDaemon({ config: { encryption: { rotationBatchSize: 10, rotationPauseMs: 20 } } });
  await Phone.paired(daemon, `phone-${marker}`);
  const posted = await daemon.admin('POST', '/api/v1/notifications', secretText);
  expect(posted.status).toBe(202);
  // The click URL and the icon (an ntfy publisher's X-Click and X-Icon) are private too.
  const { token } = await createToken(daemon, 'publish');
  const published = await fetch(`${daemon.adminUrl}/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-click': `https://click-${marker}.example/`, 'x-icon': `https://icon-${marker}.example/i.png` },
    body: `published-${marker}`,
  });
  expect(published.status).toBe(200);
  const files = dbFiles(daemon.dataDir);
  expect(files.length).toBeGreaterThan(0);
  for (const plain of [secretText.title, secretText.body, secretText.app, secretText.tags[0], `phone-${marker}`, `click-${marker}`, `icon-${marker}`, marker]) {
    expect({ plain, found: files.includes(Buffer.from(plain)) }).toEqual({ plain, found: false });
  }
  const history = await daemon.admin('GET', '/api/v1/notifications?limit=2');
  expect(history.body[0]).toMatchObject({ body: `published-${marker}`, url: `https://click-${marker}.example/`, icon: `https://icon-${marker}.example/i.png` });
  expect(history.body[1]).toMatchObject(secretText);
  const devices = await daemon.admin('GET', '/api/v1/devices');
  expect(devices.body.map((d: { name: string }) => d.name)).toContain(`phone-${marker}`);
});

test('one seal per row: the seal of one row moved to another does not open there (associated data binds it)', async () => {
  await daemon.admin('POST', '/api/v1/notifications', { title: 'other row' });
  const db = new Database(path.join(daemon.dataDir, 'beep.db'));
  const rows = db.prepare('SELECT seq, sealed, title, body, app, tags, url, icon FROM notifications ORDER BY seq DESC LIMIT 3').all() as Record<string, string | null>[];
  // Every private field lives in the one seal; the old per-field columns are empty.
  for (const row of rows) expect(row).toMatchObject({ sealed: expect.stringMatching(/^e1:/), title: '', body: '', app: '', tags: '', url: null, icon: null });
  const [newer, , secret] = rows;
  db.prepare('UPDATE notifications SET sealed = ? WHERE seq = ?').run(secret.sealed, newer.seq);
  const swapped = await daemon.admin('GET', '/api/v1/notifications?limit=1');
  expect(swapped.status).toBe(500);
  expect(swapped.text).not.toContain(secretText.title);
  db.prepare('UPDATE notifications SET sealed = ? WHERE seq = ?').run(newer.sealed, newer.seq);
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
  // One seal per row, under the key; nothing left in the four-seal format.
  const stale = db
    .prepare("SELECT COUNT(*) AS n FROM notifications WHERE sealed IS NULL OR sealed NOT LIKE ? OR title != '' OR body != '' OR app != '' OR tags != ''")
    .get(like) as { n: number };
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

test('notifications in the four-seal format of before (an older database, and a backup of it) are read, then sealed once per row online', async () => {
  const older = await startDaemon();
  await older.stop();
  // The database as the four-seal format left it: no `sealed` column, four seals per row, url and icon in plaintext.
  const file = path.join(older.dataDir, 'beep.db');
  const db = new Database(file);
  // Fragments an older daemon left in free space (it did not zero it) are not the conversion's
  // doing; the README says how to clear them. This one zeroes, so what is left is the conversion's.
  db.pragma('secure_delete = ON');
  const cipher = new FieldCipher();
  cipher.load(fs.readFileSync(path.join(older.dataDir, 'keys/master.key')), db.prepare('SELECT id, wrapped FROM data_keys ORDER BY created_ms, rowid').all() as WrappedKey[]);
  db.exec('DROP INDEX notifications_unsealed; ALTER TABLE notifications DROP COLUMN sealed; DELETE FROM schema_migrations WHERE version = 9;');
  const old = Array.from({ length: 30 }, (_, i) => ({ id: `old-${i}`, title: `old ${i} ${marker}`, body: `b ${i}`, app: 'legacy', tags: [`t${i}`], url: `https://old-${marker}.example/${i}` }));
  const insert = db.prepare(
    `INSERT INTO notifications (id, title, body, app, priority, tags, url, topic, source, created_at, created_ms, icon)
     VALUES (?, ?, ?, ?, 3, ?, ?, NULL, 'http', ?, ?, NULL)`,
  );
  for (const n of old) {
    const seal = (column: string, value: string) => cipher.seal(value, `notifications.${column}.${n.id}`);
    insert.run(n.id, seal('title', n.title), seal('body', n.body), seal('app', n.app), seal('tags', JSON.stringify(n.tags)), n.url, new Date().toISOString(), Date.now());
  }
  db.close();
  const backup = path.join(older.dataDir, 'old-format.backup');
  expect((await older.cli(['backup', backup])).status).toBe(0);

  const readsAll = async (d: RunningDaemon) => {
    const history = (await d.admin('GET', '/api/v1/notifications?limit=100')).body as { id: string }[];
    expect(history.filter((n) => n.id.startsWith('old-')).sort((a, b) => Number(a.id.slice(4)) - Number(b.id.slice(4)))).toEqual(
      old.map((n) => expect.objectContaining(n)),
    );
  };
  const resealed = async (d: RunningDaemon) => {
    const left = () => {
      const check = new Database(file, { readonly: true });
      try {
        return (check.prepare('SELECT COUNT(*) AS n FROM notifications WHERE sealed IS NULL').get() as { n: number }).n;
      } finally {
        check.close();
      }
    };
    for (let i = 0; i < 400 && left() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(left()).toBe(0);
    await readsAll(d);
    // Once converted, the WAL is checkpointed and emptied, and freed space is zeroed: the old plaintext URLs leave the disk.
    for (let i = 0; i < 200 && dbFiles(d.dataDir).includes(Buffer.from(`old-${marker}`)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(dbFiles(d.dataDir).includes(Buffer.from(`old-${marker}`))).toBe(false);
  };

  // Started on it: read at once (while the re-seal goes on, a few rows per batch), then converted.
  let d = await startDaemon({ dataDir: older.dataDir, config: { encryption: { rotationBatchSize: 4, rotationPauseMs: 50 } } });
  try {
    await readsAll(d);
    await resealed(d);
    await d.stop();
    // A backup made before the conversion: restored, read, converted again.
    expect((await d.cli(['restore', backup])).status).toBe(0);
    d = await d.restart();
    await readsAll(d);
    await resealed(d);
  } finally {
    await d.stop();
  }
});
