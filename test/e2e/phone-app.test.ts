/// <reference lib="dom" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { freePort, launchPhoneBrowser, phoneContext, screenshot, watchProblems } from '../helpers/browser';

// The phone web app in headless Chromium against the real daemon over HTTPS: pairing from the
// QR link, every priority, dismiss sync between two phones, a daemon restart and an offline
// spell each caught up exactly once, token refresh shared by two tabs, unpairing. The tests
// run in order and share two phones (A pairs from the link, B by typing the code).

jest.setTimeout(120_000);

/** Access tokens live 30 s (the minimum), so refreshes happen while the suite runs. */
const CONFIG = { auth: { accessTokenTtlSec: 30 } };

let daemon: RunningDaemon;
let browser: Browser;
let a: { context: BrowserContext; page: Page; problems: string[] };
let b: { context: BrowserContext; page: Page; problems: string[] };
let counter = 0;

beforeAll(async () => {
  daemon = await startDaemon({ config: CONFIG, env: { BEEP_GATEWAY_PORT: String(await freePort()) } });
  browser = await launchPhoneBrowser(daemon.caPem);
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

async function openPhone(url: string, colorScheme: 'light' | 'dark' = 'light') {
  const context = await phoneContext(browser, colorScheme);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(url);
  return { context, page, problems };
}

async function post(fields: Record<string, unknown>): Promise<string> {
  const id = `n${++counter}-${Date.now()}`;
  const res = await daemon.admin('POST', '/api/v1/notifications', { id, ...fields });
  expect(res.status).toBe(202);
  return id;
}

const shownIds = (page: Page) => page.$$eval('#list .item', (items) => items.map((i) => (i as HTMLElement).dataset.id!));

async function waitShown(page: Page, ids: string[]): Promise<void> {
  await page.waitForFunction((wanted) => wanted.every((id) => document.querySelector(`#list .item[data-id="${id}"]`)), ids);
}

async function waitGone(page: Page, id: string): Promise<void> {
  await page.waitForFunction((gone) => !document.querySelector(`#list .item[data-id="${gone}"]`), id);
}

const connected = (page: Page) => page.waitForSelector('#conn[data-state="connected"]');

/** Every id shown exactly once, and exactly these. */
async function expectExactlyOnce(page: Page, ids: string[]): Promise<void> {
  const shown = await shownIds(page);
  expect(new Set(shown).size).toBe(shown.length);
  for (const id of ids) expect(shown.filter((s) => s === id)).toHaveLength(1);
}

const storedCredentials = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ refreshToken: string; deviceId: string }>((resolve, reject) => {
        const open = indexedDB.open('beep');
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get('credentials');
          get.onsuccess = () => resolve(get.result);
          get.onerror = () => reject(get.error);
        };
      }),
  );

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function devices(): Promise<{ id: string; name: string; platform: string; pending: number }[]> {
  return (await daemon.admin('GET', '/api/v1/devices')).body;
}

test('pairs by opening the QR link: asks only for a name, keeps the code out of the URL, installs its worker', async () => {
  const pairing = await daemon.admin('POST', '/api/v1/pairings');
  expect(pairing.body.url).toMatch(/^https:\/\/localhost:\d+\/#code=\d{8}&fp=sha256%2F[0-9a-f]{64}&h=12$/);
  a = await openPhone(pairing.body.url);
  const { page } = a;
  await page.waitForSelector('#view-pair:not([hidden])');
  expect(await page.evaluate(() => location.hash)).toBe('');
  expect(await page.inputValue('#pair-name')).toBe('Chrome on Android');
  expect(await page.isVisible('#pair-code')).toBe(false);
  expect((await page.textContent('#code-shown'))?.replace(/\s/g, '')).toBe(pairing.body.code);
  // The code offers recent history; the person chooses, unticked by default.
  expect(await page.isVisible('#history-field')).toBe(true);
  expect(await page.isChecked('#pair-history')).toBe(false);
  await screenshot(page, '01-pair-light');
  await page.click('#pair-submit');
  await connected(page);
  expect(await page.isVisible('#empty')).toBe(true);
  await screenshot(page, '02-empty-light');

  const [device] = await devices();
  expect(device).toMatchObject({ name: 'Chrome on Android', platform: 'web-android' });
  expect((await storedCredentials(page)).deviceId).toBe(device.id);
  // The worker really registered and is active (a secure context with a trusted certificate).
  expect(await page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.scriptURL))).toMatch(/\/sw\.js$/);
  // Installable: Chromium finds nothing missing but a non-incognito profile (test contexts are incognito).
  const cdp = await a.context.newCDPSession(page);
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors' as any)) as { installabilityErrors: { errorId: string }[] };
  await cdp.detach(); // a second DevTools session would blur the offline emulation used later
  expect(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);
  // Backoff stays within 1–30 s and grows (checked on the module the page runs).
  const delays = await page.evaluate(
    "import('/js/backoff.js').then(({ backoffDelay }) => [0, 1, 2, 3, 5, 40].flatMap((n) => [backoffDelay(n, () => 0), backoffDelay(n, () => 0.999)]))",
  );
  expect(delays).toEqual([1000, 1000, 1000, 1999, 2000, 3998, 4000, 7996, 15000, 29985, 15000, 29985]);
});

test('shows every priority by colour, icon and words, newest first, grouped by app, with tags, time and link', async () => {
  const { page } = a;
  const ids = [
    await post({ title: 'Nightly cleanup done', body: 'Removed 312 temporary files.', app: 'cron', priority: 'min' }),
    await post({ title: 'Package updates available', body: '14 packages can be upgraded.', app: 'apt', priority: 'low', tags: ['updates'] }),
    await post({ title: 'Backup finished', body: '42 GB in 3 min, 0 errors.', app: 'restic', tags: ['backup', 'nas'] }),
    await post({ title: 'Build #1842 failed', body: 'test/integration/cli.test.ts: 2 failures', app: 'ci', priority: 'high', tags: ['ci'], url: 'https://ci.example.com/builds/1842' }),
    await post({
      title: 'Disk almost full',
      body: '/dev/nvme0n1p2 is 97% full (12 GB left).\nLargest: /var/lib/docker (210 GB)\nRun `docker system prune` to reclaim space.',
      app: 'restic',
      priority: 'urgent',
      tags: ['disk'],
    }),
  ];
  await waitShown(page, ids);
  // Grouped by app, groups ordered by their newest item, newest first inside a group; only an
  // app with several notifications gets a header, a lone one names its app on the card.
  expect(await page.$$eval('.group-name', (h) => h.map((e) => e.textContent))).toEqual(['restic']);
  const order = await page.$$eval('#list .group', (groups) => groups.map((g) => (g.querySelector('.group-name') ?? g.querySelector('.app-name'))!.textContent));
  expect(order).toEqual(['restic', 'ci', 'apt', 'cron']);
  expect(await shownIds(page)).toEqual([ids[4], ids[2], ids[3], ids[1], ids[0]]);
  const looks = await page.$$eval('#list .item', (items) =>
    items.map((i) => ({
      priority: (i as HTMLElement).dataset.priority,
      icon: i.querySelector('.prio use')!.getAttribute('href'),
      label: i.querySelector('.prio-label')!.textContent,
      stripe: getComputedStyle(i.querySelector('.card')!, '::before').backgroundColor,
    })),
  );
  expect(looks.map((l) => [l.priority, l.icon, l.label])).toEqual([
    ['urgent', '#i-p5', 'Urgent'],
    ['default', '#i-p3', ''],
    ['high', '#i-p4', 'High'],
    ['low', '#i-p2', 'Low'],
    ['min', '#i-p1', 'Min'],
  ]);
  expect(new Set(looks.map((l) => l.stripe)).size).toBe(5);
  const build = page.locator(`[data-id="${ids[3]}"]`);
  expect(await build.locator('.tags').innerText()).toContain('ci');
  expect(await build.locator('.when').textContent()).toBe('just now');
  const link = build.locator('.open-link');
  expect(await link.getAttribute('href')).toBe('https://ci.example.com/builds/1842');
  expect(await link.getAttribute('target')).toBe('_blank');
  expect(await link.getAttribute('rel')).toContain('noopener');
  await page.waitForFunction(() => /new/i.test(document.getElementById('announce')!.textContent!));

  // Acked only once stored: the daemon owes this phone nothing now.
  await until(async () => (await devices())[0].pending === 0, 'the daemon to see the acks');
  await screenshot(page, '03-list-light');

  // Tap shows the full text.
  const disk = page.locator(`[data-id="${ids[4]}"] .card-main`);
  await disk.click();
  expect(await disk.getAttribute('aria-expanded')).toBe('true');
  expect(await page.locator(`[data-id="${ids[4]}"] .body`).innerText()).toContain('docker system prune');
  await screenshot(page, '04-expanded-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, '05-list-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await disk.click();

  // Search and the app filter.
  await page.fill('#search', 'disk');
  expect(await shownIds(page)).toEqual([ids[4]]);
  await page.fill('#search', '');
  await page.getByRole('button', { name: 'ci', exact: true }).click();
  expect(await shownIds(page)).toEqual([ids[3]]);
  await page.getByRole('button', { name: 'All', exact: true }).click();
  expect(await shownIds(page)).toHaveLength(5);
});

test('a second phone pairs by typing the code; a dismissal on one vanishes from the other, by button and by swipe', async () => {
  b = await openPhone(`${daemon.gatewayUrl}/`, 'dark');
  const code = (await daemon.admin('POST', '/api/v1/pairings')).body.code as string;
  await b.page.waitForSelector('#pair-code');
  await b.page.fill('#pair-code', `${code.slice(0, 4)} ${code.slice(4)}`);
  await b.page.fill('#pair-name', 'Second phone');
  await screenshot(b.page, '06-pair-by-hand-dark');
  await b.page.click('#pair-submit');
  await connected(b.page);

  const first = await post({ title: 'Doorbell', body: 'Someone is at the front door.', app: 'home', priority: 'high', tags: ['door'] });
  const second = await post({ title: 'Washing machine done', app: 'home' });
  for (const phone of [a, b]) await waitShown(phone.page, [first, second]);
  await screenshot(b.page, '07-list-dark');

  await a.page.click(`[data-id="${first}"] .dismiss`);
  await waitGone(a.page, first);
  await waitGone(b.page, first);

  const card = b.page.locator(`[data-id="${second}"] .card`);
  const box = (await card.boundingBox())!;
  await b.page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await b.page.mouse.down();
  for (let step = 1; step <= 6; step++) await b.page.mouse.move(box.x + box.width * (0.3 + step * 0.1), box.y + box.height / 2);
  await b.page.mouse.up();
  await waitGone(b.page, second);
  await waitGone(a.page, second);
});

test('after a daemon restart, what was missed arrives exactly once (an open page and a closed one)', async () => {
  const before = await shownIds(a.page);
  await b.page.close();
  const missedByB = [await post({ title: 'Posted while B was closed', app: 'cron' })];
  await waitShown(a.page, missedByB);
  const port = daemon.runtime.gatewayPort;
  await daemon.stop();
  await a.page.waitForSelector('#conn[data-state="waiting"]');
  await screenshot(a.page, '08-reconnecting-light');
  daemon = await daemon.restart();
  expect(daemon.runtime.gatewayPort).toBe(port);
  const afterRestart = [
    await post({ title: 'After restart, urgent', app: 'restic', priority: 'urgent' }),
    await post({ title: 'After restart, normal', app: 'restic' }),
  ];
  await connected(a.page);
  await waitShown(a.page, afterRestart);
  await expectExactlyOnce(a.page, [...before, ...missedByB, ...afterRestart]);

  b.page = await b.context.newPage();
  b.problems = watchProblems(b.page);
  await b.page.goto(`${daemon.gatewayUrl}/`);
  await connected(b.page);
  await waitShown(b.page, [...missedByB, ...afterRestart]);
  await expectExactlyOnce(b.page, [...missedByB, ...afterRestart]);
  await until(async () => (await devices()).every((d) => d.pending === 0), 'the daemon to see the acks');
});

test('offline: the stored list still opens from the service worker; back online, each missed one arrives once and offline dismissals sync', async () => {
  const { page, context } = a;
  const before = await shownIds(page);
  await context.setOffline(true);
  await page.waitForSelector('#conn[data-state="offline"]');
  const missed = [
    await post({ title: 'Posted while offline 1', app: 'ci', priority: 'high' }),
    await post({ title: 'Posted while offline 2', app: 'ci' }),
    await post({ title: 'Posted while offline 3', app: 'apt', priority: 'low' }),
  ];
  // The app shell and the stored list come from the worker and IndexedDB, with no network.
  // (After a reload this Chromium reports navigator.onLine true in an emulated-offline context,
  // so the app may say "Reconnecting…" instead of "Offline"; either way it says it has no link.)
  await page.reload();
  await page.waitForSelector('#view-list:not([hidden])');
  await page.waitForSelector('#offline-note:not([hidden])');
  expect(['offline', 'waiting']).toContain(await page.getAttribute('#conn', 'data-state'));
  expect(await shownIds(page)).toEqual(before);
  await screenshot(page, '09-offline-light');
  // A dismissal made offline waits in IndexedDB and reaches the other phone on reconnect.
  const dismissed = before[0];
  expect(await b.page.isVisible(`[data-id="${dismissed}"]`)).toBe(true);
  await page.click(`[data-id="${dismissed}"] .dismiss`);
  await waitGone(page, dismissed);

  await context.setOffline(false);
  // What a phone's browser does when the network returns (the emulation above may not fire it).
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await connected(page);
  await waitShown(page, missed);
  await expectExactlyOnce(page, [...before.slice(1), ...missed]);
  await waitGone(b.page, dismissed);
});

test('two tabs of one phone: the newer holds the one connection, the older waits and takes over when it closes; they share the rotating refresh token', async () => {
  const { page, context } = a;
  const second = await context.newPage();
  const problems = watchProblems(second);
  await second.goto(`${daemon.gatewayUrl}/`);
  await connected(second);
  // The daemon keeps one socket per device. Without the connection lock the older tab retried
  // after a second and knocked the newer one off, and so on in turns; with it, it waits in line.
  await page.waitForSelector('#conn[data-state="elsewhere"]');
  expect(await page.textContent('#conn-text')).toBe('Live in another tab');
  const start = (await storedCredentials(page)).refreshToken;
  // The connected tab refreshes about 24 s after the last refresh (a Web Lock lets one tab rotate at a time).
  await page.waitForFunction(
    (old) =>
      new Promise((resolve) => {
        const open = indexedDB.open('beep');
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get('credentials');
          get.onsuccess = () => resolve(get.result.refreshToken !== old);
        };
      }),
    start,
    { timeout: 45_000, polling: 1000 },
  );
  const id = await post({ title: 'After the refresh', app: 'cron' });
  await waitShown(page, [id]); // the waiting tab follows the shared store
  await waitShown(second, [id]);
  expect(await page.getAttribute('#conn', 'data-state')).toBe('elsewhere'); // still waiting: no tug of war
  expect(await devices()).toHaveLength(2); // nobody was signed out for reusing a token
  await second.close();
  await connected(page); // next in line
  const after = await post({ title: 'After the other tab closed', app: 'cron' });
  await waitShown(page, [after]);
  expect(problems).toEqual([]);
});

test('the trust page shows the CA fingerprint and says it matches the pinned one', async () => {
  const page = await a.context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${daemon.gatewayUrl}/trust.html`);
  await page.waitForSelector('#fp-match:not([hidden])');
  const hex = daemon.runtime.caFingerprint.replace('sha256/', '').toUpperCase();
  expect((await page.textContent('#fp'))!.replace(/\s/g, '')).toBe(hex);
  expect(await page.getAttribute('#fp-match', 'data-match')).toBe('true');
  await screenshot(page, '10-trust-light');
  await page.close();
  expect(problems).toEqual([]);
});

test('while hidden, new ones become system notifications through the service worker; urgent ones are marked', async () => {
  // Headless Chromium reports every page visible, so this page's visibility is overridden (the
  // one mocked thing); showNotification and the worker's registration are the real ones.
  await b.context.grantPermissions(['notifications'], { origin: daemon.gatewayUrl });
  await b.context.addInitScript(() => {
    Object.defineProperty(document, 'visibilityState', { get: () => ((window as any).beepTestHidden ? 'hidden' : 'visible') });
  });
  const page = await b.context.newPage();
  await page.goto(`${daemon.gatewayUrl}/`);
  await connected(page);
  await b.page.waitForSelector('#conn[data-state="elsewhere"]'); // B's first tab gave the connection up
  await page.evaluate(() => ((window as any).beepTestHidden = true));
  await post({ title: 'Server down', body: 'web-1 stopped answering', app: 'uptime', priority: 'urgent' });
  await post({ title: 'Coffee ready', app: 'home' });
  const systemNotes = () =>
    page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const list = await registration.getNotifications();
      return list.map((n) => ({ title: n.title, body: n.body, requireInteraction: n.requireInteraction }));
    });
  await until(async () => (await systemNotes()).length === 2, 'two system notifications');
  const notes = await systemNotes();
  expect(notes.sort((x, y) => x.title.localeCompare(y.title))).toEqual([
    { title: 'Coffee ready', body: 'home', requireInteraction: false },
    { title: 'Urgent: Server down', body: 'uptime · web-1 stopped answering', requireInteraction: true },
  ]);
  await page.close();
  await connected(b.page); // B's first tab waited in line and has the connection back
});

test('unpairing from the phone revokes its device on the daemon; the other phone keeps working', async () => {
  const { page } = a;
  const deviceId = (await storedCredentials(page)).deviceId;
  await page.click('#open-settings');
  await page.waitForSelector('#settings[open]');
  await screenshot(page, '11-settings-light');
  await page.click('#unpair');
  await page.click('#unpair');
  await page.waitForSelector('#view-pair:not([hidden])');
  expect(await page.textContent('#pair-intro')).toContain('unpaired');
  expect((await devices()).map((d) => d.id)).not.toContain(deviceId);
  expect(await page.evaluate(() => document.querySelectorAll('#list .item').length)).toBe(0);

  const id = await post({ title: 'Only for B now', app: 'cron' });
  await waitShown(b.page, [id]);
  expect([...a.problems, ...b.problems]).toEqual([]);
});

describe('an expired pairing code', () => {
  let shortLived: RunningDaemon;

  beforeAll(async () => {
    // Same CA as the main daemon, which is the one the browser trusts.
    const dataDir = tempDir();
    fs.cpSync(path.join(daemon.dataDir, 'certs'), path.join(dataDir, 'certs'), { recursive: true });
    shortLived = await startDaemon({ dataDir, config: { auth: { pairingCodeTtlSec: 1 } } });
  });

  afterAll(async () => {
    await shortLived?.stop();
  });

  test('says so plainly and offers to type a code by hand', async () => {
    const { url } = (await shortLived.admin('POST', '/api/v1/pairings')).body;
    const context = await phoneContext(browser);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('#view-pair:not([hidden])');
    await new Promise((r) => setTimeout(r, 1500));
    await page.click('#pair-submit');
    await page.waitForSelector('#pair-error:not([hidden])');
    expect(await page.textContent('#pair-error')).toContain('wrong or has expired');
    expect(await page.isVisible('#pair-code')).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('pair-code');
    await screenshot(page, '12-expired-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, '13-expired-dark');
    expect(await shortLived.admin('GET', '/api/v1/devices').then((r) => r.body)).toEqual([]);
    await context.close();
  });
});
