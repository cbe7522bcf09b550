import Database from 'better-sqlite3';
import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { parseMetrics, value } from '../helpers/metrics';
import { Phone } from '../helpers/phone';
import * as T from '../helpers/toasts';
import { FakeWpnDatabase } from '../helpers/wpn-db';

// The Windows source against wpndatabase.db files the test builds with the platform's own
// schema (real SQLite, WAL mode), written by a second connection while the daemon reads, as
// the notification platform does. The platform itself cannot run here: the database is the
// only mocked part, and the source reads nothing Windows-only. Never run on a real Windows.

const TERMINAL = 'Microsoft.WindowsTerminal_8wekyb3d8bbwe!App';
const OUTLOOK = 'Microsoft.Office.OUTLOOK.EXE.15';
const PHONE_LINK = 'Microsoft.YourPhone_8wekyb3d8bbwe!App';
const TEAMS = 'MSTeams_8wekyb3d8bbwe!MSTeams';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

const sourcesHealth = async (daemon: RunningDaemon) => (await daemon.admin('GET', '/health/detailed')).body.checks.sources;
const metrics = async (daemon: RunningDaemon) => parseMetrics((await daemon.admin('GET', '/metrics')).text);
const byTitle = (phone: Phone, title: string) => [...phone.unique.values()].filter((n) => n.title === title);

function config(file: string) {
  return { sources: { dbus: { enabled: false }, macos: { enabled: false }, windows: { enabled: true, database: file, pollSec: 0.1 } }, health: { cacheTtlMs: 0 } };
}

describe('Windows capture from the notification database', () => {
  const dir = tempDir('beep-wpn-');
  const file = path.join(dir, 'wpndatabase.db');
  let wpn: FakeWpnDatabase;
  let daemon: RunningDaemon;
  let phone: Phone;

  afterAll(async () => {
    phone?.disconnect();
    await daemon?.stop();
    wpn?.close();
  });

  test('missing database: degraded, attaches when it appears; toasts of every shape arrive once, the rest is skipped and counted', async () => {
    daemon = await startDaemon({ config: config(file) });
    const waiting = await sourcesHealth(daemon);
    expect(waiting).toMatchObject({ status: 'degraded', windows: { state: 'waiting', reason: expect.stringContaining('no notification database'), expected: true } });

    wpn = new FakeWpnDatabase(file);
    wpn.handler(TERMINAL, 'Windows Terminal');
    wpn.post(OUTLOOK, T.toast('Old mail', 'already there before Beep attached'));
    await until(() => sourcesHealth(daemon), (s) => s.windows.state === 'attached', 'attached');
    expect((await sourcesHealth(daemon)).status).toBe('ok');

    phone = await Phone.paired(daemon);
    await phone.connect(daemon);

    // The platform writes while Beep reads: toasts, badges and tiles, malformed payloads, and
    // non-toast rows deleted again, paced so that several polls see the table mid-way.
    const writes: [string, string | Buffer, Parameters<FakeWpnDatabase['post']>[2]?][] = [
      [TERMINAL, T.PLAIN],
      [TERMINAL, T.BADGE, { type: 'badge' }],
      [OUTLOOK, T.TWO_LINES],
      [OUTLOOK, T.MALFORMED],
      [PHONE_LINK, T.HERO],
      [OUTLOOK, T.TILE, { type: 'tile' }],
      [TEAMS, T.ACTIONS],
      [TEAMS, T.NOT_XML],
      [OUTLOOK, T.scenario('reminder', 'Reminder toast')],
      [OUTLOOK, T.scenario('alarm', 'Alarm toast')],
      [TEAMS, T.scenario('incomingCall', 'Call toast')],
      [OUTLOOK, T.scenario('urgent', 'Urgent toast')],
      [OUTLOOK, 'raw bytes for the app', { type: 'raw' }],
      [OUTLOOK, T.PROTOCOL_LAUNCH],
      [TEAMS, T.utf16(T.NON_ASCII)],
      [OUTLOOK, T.NOT_A_TOAST],
      [OUTLOOK, T.NOT_UTF8],
      ['Microsoft.BingWeather_8wekyb3d8bbwe!App', T.ADAPTIVE],
    ];
    for (const [app, payload, options] of writes) {
      const { order } = wpn.post(app, payload, options);
      if (options?.type === 'badge' || options?.type === 'tile') setTimeout(() => wpn.remove(order), 30);
      await sleep(Math.floor(Math.random() * 60));
    }
    const titles = [
      'Backup finished',
      'Build 1432 passed',
      'Andrew sent you a picture',
      'Andrew Bares',
      'Reminder toast',
      'Alarm toast',
      'Call toast',
      'Urgent toast',
      'Standup',
      'Zoë Łukasiewicz',
      'Weather',
    ];
    await phone.waitFor(() => titles.every((t) => byTitle(phone, t).length > 0), 15_000, 'every valid toast');
    // A toast after the malformed ones still arrives: they never stop the source.
    const sentinelId = await phone.sentinel(daemon);

    expect([...phone.unique.values()].map((n) => n.title).sort()).toEqual([...titles, 'sentinel'].sort());
    expect(phone.unique.size).toBe(titles.length + 1);
    const get = (title: string) => byTitle(phone, title)[0];
    expect(get('Backup finished')).toMatchObject({ app: 'Windows Terminal', body: '', priority: 3, url: null, source: 'windows' });
    expect(get('Build 1432 passed')).toMatchObject({ app: 'Outlook', body: 'main · 3 minutes' });
    expect(get('Andrew sent you a picture')).toMatchObject({
      app: 'Microsoft.YourPhone',
      body: 'Check this out, Happy Canyon in Utah!\nvia SMS',
      icon: 'https://example.com/avatars/andrew.png',
    });
    expect(get('Andrew Bares')).toMatchObject({ app: 'Microsoft Teams', url: 'https://chat.example.com/threads/92187' });
    expect([get('Reminder toast'), get('Alarm toast'), get('Call toast'), get('Urgent toast')].map((n) => n.priority)).toEqual([4, 5, 5, 5]);
    expect(get('Standup')).toMatchObject({ priority: 4, url: 'https://outlook.office.com/calendar/item/AAMkAD' });
    expect(get('Zoë Łukasiewicz').body).toBe('Привет! 日本語のテキスト 🍝 & <b> café\nTom & Jerry <3');
    expect(get('Weather').body).toBe('Mon\n63°\nTue');
    expect(phone.unique.has(sentinelId)).toBe(true);

    const m = await metrics(daemon);
    expect(value(m, 'beep_notifications_ingested_total', { source: 'windows' })).toBe(titles.length); // each read once
    expect(value(m, 'beep_capture_skipped_total', { source: 'windows', reason: 'malformed_xml' })).toBe(2);
    expect(value(m, 'beep_capture_skipped_total', { source: 'windows', reason: 'not_a_toast' })).toBe(1);
    expect(value(m, 'beep_capture_skipped_total', { source: 'windows', reason: 'unreadable' })).toBe(1);
    const skips = daemon
      .logs()
      .split('\n')
      .filter((line) => line.includes('skipped a toast Beep cannot read'))
      .map((line) => JSON.parse(line));
    expect(skips.map((l) => l.reason)).toEqual(['malformed_xml', 'malformed_xml', 'not_a_toast', 'unreadable']);
    expect(skips[0]).toMatchObject({ level: 'warn', component: 'windows', app: OUTLOOK, error: expect.stringContaining("Expected closing tag 'text'") });
    expect((await sourcesHealth(daemon)).windows.state).toBe('attached');
    expect(daemon.proc.exitCode).toBeNull();
  });

  test('rows deleted on the PC are dismissed on the phone; expired ones are not; a reused row number is a new toast; tag+group replaces', async () => {
    const teams = [...phone.unique.values()].find((n) => n.title === 'Andrew Bares')!;
    const teamsOrder = (wpn.db.prepare('SELECT "Order" AS o FROM Notification WHERE Payload = ?').get(Buffer.from(T.ACTIONS)) as { o: number }).o;
    wpn.remove(teamsOrder);
    await phone.waitFor(() => phone.dismissed.includes(teams.id), 10_000, 'the deleted toast dismissed');

    // The newest row deleted, the next toast gets its Order (SQLite's rowid rule): both must be seen.
    const first = wpn.post(OUTLOOK, T.toast('Newest, then cleared'));
    await phone.waitFor(() => byTitle(phone, 'Newest, then cleared').length === 1, 10_000, 'the newest toast');
    wpn.remove(first.order);
    const reused = wpn.post(OUTLOOK, T.toast('Took its number'));
    expect(reused.order).toBe(first.order);
    await phone.waitFor(() => byTitle(phone, 'Took its number').length === 1, 10_000, 'the toast with a reused Order');
    await phone.waitFor(() => phone.dismissed.includes(byTitle(phone, 'Newest, then cleared')[0].id), 10_000, 'the cleared one dismissed');

    // Same Tag and Group: the platform removes the old toast and shows the new one in its place.
    const progress = wpn.post(TEAMS, T.toast('Uploading 10%'), { tag: 'upload-7', group: 'uploads' });
    await phone.waitFor(() => byTitle(phone, 'Uploading 10%').length === 1, 10_000, 'the first progress toast');
    wpn.db.transaction(() => {
      wpn.remove(progress.order);
      wpn.post(TEAMS, T.toast('Uploaded'), { tag: 'upload-7', group: 'uploads' });
    })();
    await phone.waitFor(() => byTitle(phone, 'Uploaded').length === 1, 10_000, 'the replacing toast');
    const uploading = byTitle(phone, 'Uploading 10%')[0];
    expect(byTitle(phone, 'Uploaded')[0].replaces).toBe(uploading.id);

    // Expires in a moment; removed after its expiry it was not dismissed by anyone.
    const expiresAt = Date.now() + 1_500;
    const expiring = wpn.post(OUTLOOK, T.toast('Expires soon'), { expiryMs: expiresAt });
    await phone.waitFor(() => byTitle(phone, 'Expires soon').length === 1, 10_000, 'the expiring toast');
    await until(async () => Date.now(), (now) => now > expiresAt + 100, 'its expiry to pass');
    wpn.remove(expiring.order);
    // Sentinel for the dismiss path: a toast removed after it, whose dismissal must arrive.
    const after = wpn.post(OUTLOOK, T.toast('Removed last'));
    await phone.waitFor(() => byTitle(phone, 'Removed last').length === 1, 10_000, 'the last toast');
    wpn.remove(after.order);
    await phone.waitFor(() => phone.dismissed.includes(byTitle(phone, 'Removed last')[0].id), 10_000, 'the last toast dismissed');
    expect(phone.dismissed).not.toContain(byTitle(phone, 'Expires soon')[0].id);
    expect(phone.dismissed).not.toContain(uploading.id);
    expect(phone.current.has(uploading.id)).toBe(false); // replaced in place
    // A phone's dismiss cannot close a Windows toast: the row stays.
    const reusedId = byTitle(phone, 'Took its number')[0].id;
    await phone.dismiss(reusedId);
    expect(wpn.db.prepare('SELECT COUNT(*) AS n FROM Notification WHERE "Order" = ?').get(reused.order)).toEqual({ n: 1 });
  });

  test('a restart resumes at the saved position: nothing re-read, nothing that arrived meanwhile missed, removals still seen', async () => {
    const kept = wpn.post(OUTLOOK, T.toast('Before the restart'));
    await phone.waitFor(() => byTitle(phone, 'Before the restart').length === 1, 10_000, 'the toast before the restart');
    phone.disconnect();
    await daemon.stop();

    wpn.post(TEAMS, T.toast('While Beep was down', 'one'));
    wpn.post(OUTLOOK, T.MALFORMED);
    wpn.post(TEAMS, T.toast('While Beep was down', 'two'));
    daemon = await daemon.restart();
    await phone.connect(daemon);
    await phone.waitFor(() => byTitle(phone, 'While Beep was down').length === 2, 15_000, 'the toasts from the downtime');

    const m = await metrics(daemon);
    expect(value(m, 'beep_notifications_ingested_total', { source: 'windows' })).toBe(2);
    expect(value(m, 'beep_capture_skipped_total', { source: 'windows', reason: 'malformed_xml' })).toBe(1);

    // Toasts captured before the restart are watched again: removing one dismisses it.
    wpn.remove(kept.order);
    await phone.waitFor(() => phone.dismissed.includes(byTitle(phone, 'Before the restart')[0].id), 10_000, 'the earlier toast dismissed');
    await phone.sentinel(daemon);
    expect(byTitle(phone, 'While Beep was down').map((n) => n.body).sort()).toEqual(['one', 'two']);
    expect(value(await metrics(daemon), 'beep_notifications_ingested_total', { source: 'windows' })).toBe(2);
  });
});

describe('a locked notification database', () => {
  test('the daemon runs with the source degraded, and attaches once the lock is released', async () => {
    const dir = tempDir('beep-wpn-lock-');
    const file = path.join(dir, 'wpndatabase.db');
    const setup = new FakeWpnDatabase(file);
    setup.post(OUTLOOK, T.toast('Before the lock'));
    setup.close();
    // Another process holds the file exclusively (as a platform opening it that way would).
    const locker = new Database(file);
    locker.pragma('locking_mode = EXCLUSIVE');
    locker.exec('BEGIN EXCLUSIVE');
    locker.exec('COMMIT');
    const daemon = await startDaemon({ config: config(file) });
    let wpn: FakeWpnDatabase | undefined;
    const phone = await Phone.paired(daemon);
    try {
      const locked = await until(() => sourcesHealth(daemon), (s) => s.windows.reason?.includes('locked'), 'the lock reported');
      expect(locked).toMatchObject({ status: 'degraded', windows: { state: 'waiting', reason: expect.stringContaining('database is locked') } });
      expect((await daemon.admin('GET', '/health/detailed')).status).toBe(200);
      await phone.connect(daemon);
      expect((await daemon.admin('POST', '/api/v1/notifications', { title: 'still relaying' })).status).toBe(202);
      await phone.waitFor(() => byTitle(phone, 'still relaying').length === 1, 10_000, 'an HTTP notification');

      locker.close();
      await until(() => sourcesHealth(daemon), (s) => s.windows.state === 'attached', 'attached after the lock');
      wpn = new FakeWpnDatabase(file, false);
      wpn.post(OUTLOOK, T.toast('After the lock'));
      await phone.waitFor(() => byTitle(phone, 'After the lock').length === 1, 10_000, 'a toast after the lock');
      await phone.sentinel(daemon);
      expect(byTitle(phone, 'Before the lock')).toEqual([]); // first attach: history is not replayed
      expect(daemon.proc.exitCode).toBeNull();
    } finally {
      phone.disconnect();
      if (locker.open) locker.close();
      await daemon.stop();
      wpn?.close();
    }
  });
});
