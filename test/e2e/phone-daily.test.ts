/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { contrastProblems, horizontalOverflow, launchPhoneBrowser, phoneContext, screenshot, watchProblems } from '../helpers/browser';

// The phone app for daily use, in headless Chromium against the real daemon: a second pairing
// link in the same tab, pairing again after a revoke or an unpair without a reload, a compact
// list (a header only for an app with several notifications), ntfy's emoji tags, Markdown
// bodies with no HTML getting through, clear-all reaching the other phone, no sideways scroll,
// AA contrast in both themes. Screenshots go to test-artifacts/phone/.

jest.setTimeout(120_000);

let daemon: RunningDaemon;
let browser: Browser;
let a: { context: BrowserContext; page: Page; problems: string[]; dismissFrames: string[] };
let counter = 0;

beforeAll(async () => {
  daemon = await startDaemon();
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
  const dismissFrames: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => typeof f.payload === 'string' && f.payload.includes('"dismiss"') && dismissFrames.push(f.payload)));
  await page.goto(url);
  return { context, page, problems, dismissFrames };
}

const publishTokens = new Map<string, string>();

/** Markdown comes from ntfy (`Markdown: yes`) or Gotify: published through ntfy, the token's name is the app. */
async function ntfyPublish(fields: Record<string, any>): Promise<string> {
  let token = publishTokens.get(fields.app);
  if (!token) {
    token = (await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', name: fields.app })).body.token as string;
    publishTokens.set(fields.app, token);
  }
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, title: fields.title, markdown: 'yes' };
  if (fields.priority) headers.priority = fields.priority;
  if (fields.tags) headers.tags = fields.tags.join(',');
  const res = await fetch(`${daemon.adminUrl}/phone-test`, { method: 'POST', headers, body: fields.body });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function post(fields: Record<string, unknown>): Promise<string> {
  if (fields.markdown) return ntfyPublish(fields);
  const id = `d${++counter}-${Date.now()}`;
  const res = await daemon.admin('POST', '/api/v1/notifications', { id, ...fields });
  expect(res.status).toBe(202);
  return id;
}

const pairing = async (): Promise<{ code: string; url: string }> => (await daemon.admin('POST', '/api/v1/pairings')).body;
const devices = async (): Promise<{ id: string; name: string }[]> => (await daemon.admin('GET', '/api/v1/devices')).body;
const connected = (page: Page) => page.waitForSelector('#conn[data-state="connected"]');
const shownIds = (page: Page) => page.$$eval('#list .item', (items) => items.map((i) => (i as HTMLElement).dataset.id!));
const waitShown = (page: Page, ids: string[]) =>
  page.waitForFunction((wanted) => wanted.every((id) => document.querySelector(`#list .item[data-id="${id}"]`)), ids);
const deviceId = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('beep');
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get('credentials');
          get.onsuccess = () => resolve(get.result?.deviceId);
          get.onerror = () => reject(get.error);
        };
      }),
  );

/** The pairing form is back and usable: the button enabled and saying "Pair", not stuck on "Pairing…". */
async function expectReadyForm(page: Page): Promise<void> {
  await page.waitForSelector('#view-pair:not([hidden])');
  expect(await page.isEnabled('#pair-submit')).toBe(true);
  expect((await page.textContent('#pair-submit'))?.trim()).toBe('Pair');
}

async function themes(page: Page, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    expect({ colorScheme, problems: await contrastProblems(page) }).toEqual({ colorScheme, problems: [] });
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `${name}-${width}-${colorScheme}`, { fullPage: true });
    }
    await page.setViewportSize({ width: 390, height: 844 });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

test('a second pairing link in the same tab: on the form its code replaces the first; when paired, the app asks and pairs again', async () => {
  const first = await pairing();
  const second = await pairing();
  a = await openPhone(first.url);
  const { page } = a;
  await page.waitForSelector('#view-pair:not([hidden])');
  expect((await page.textContent('#code-shown'))?.replace(/\s/g, '')).toBe(first.code);
  // Same page, only the fragment changes (what a second QR scan into this tab does): no reload.
  await page.evaluate(() => ((window as any).sameDocument = true));
  await page.goto(second.url);
  await page.waitForFunction((code) => document.getElementById('code-shown')!.textContent!.replace(/\s/g, '') === code, second.code);
  expect(await page.evaluate(() => [location.hash, (window as any).sameDocument])).toEqual(['', true]);
  await page.click('#pair-submit');
  await connected(page);
  const old = await deviceId(page);
  expect((await devices()).map((d) => d.id)).toEqual([old]);

  // Paired already: a third link asks before replacing this pairing.
  const third = await pairing();
  await page.goto(third.url);
  await page.waitForSelector('#relink:not([hidden])');
  expect((await page.textContent('#relink-code'))?.replace(/\s/g, '')).toBe(third.code);
  await themes(page, '20-relink');
  await page.click('#relink-yes');
  await expectReadyForm(page);
  expect((await page.textContent('#code-shown'))?.replace(/\s/g, '')).toBe(third.code);
  await page.click('#pair-submit');
  await connected(page);
  const renewed = await deviceId(page);
  expect(renewed).not.toBe(old);
  expect((await devices()).map((d) => d.id)).toEqual([renewed]); // the old pairing is gone
  expect(await page.evaluate(() => (window as any).sameDocument)).toBe(true);
});

test('after a revoke, and after an unpair, the form is usable at once: pairs again without a reload', async () => {
  const { page } = a;
  await page.evaluate(() => ((window as any).sameDocument = true));
  expect((await daemon.admin('DELETE', `/api/v1/devices/${await deviceId(page)}`)).status).toBe(204);
  await expectReadyForm(page);
  expect(await page.textContent('#pair-intro')).toContain('unpaired');
  await themes(page, '26-pair-after-revoke');
  await page.fill('#pair-code', (await pairing()).code);
  await page.click('#pair-submit');
  await connected(page);

  await page.click('#open-settings');
  await page.click('#unpair');
  await page.click('#unpair');
  await expectReadyForm(page);
  expect(await devices()).toEqual([]);
  await page.fill('#pair-code', (await pairing()).code);
  await page.click('#pair-submit');
  await connected(page);
  expect(await devices()).toHaveLength(1);
  expect(await page.evaluate(() => (window as any).sameDocument)).toBe(true);
});

/** Twenty notifications from sixteen apps, as a day's list might hold. */
const DAY: Record<string, unknown>[] = [
  { app: 'restic', title: 'Backup started', body: 'Snapshot of /home to nas:/backups.' },
  { app: 'ci', title: 'Build #1843 passed', body: 'All 412 tests passed in 6 min.', tags: ['ci'] },
  { app: 'cron', title: 'Log rotation', body: 'Rotated 14 logs, freed 1.2 GB.', priority: 'min' },
  { app: 'home', title: 'Washing machine done' },
  { app: 'apt', title: 'Package updates available', body: '14 packages can be upgraded.', priority: 'low', tags: ['package'] },
  { app: 'uptime', title: 'Server down', body: 'web-1 stopped answering at 14:02.', priority: 'urgent', tags: ['rotating_light'] },
  { app: 'docker', title: 'Container restarted', body: 'nextcloud exited with code 137 (out of memory).', priority: 'high' },
  { app: 'mail', title: '3 new messages', body: 'From Anna, Ben and the bank.' },
  { app: 'calendar', title: 'Dentist in 1 hour', body: 'Dr. Meyer, Hauptstraße 12', tags: ['calendar'] },
  { app: 'sonarr', title: 'Episode downloaded', body: 'The Expanse S03E05 (1080p)', priority: 'low' },
  { app: 'zfs', title: 'Scrub finished', body: 'pool tank: 0 errors, 2.1 TB scanned' },
  { app: 'smartd', title: 'Disk warning', body: '/dev/sdb: 8 reallocated sectors', priority: 'high', tags: ['warning', 'disk'] },
  { app: 'github', title: 'PR #231 approved', body: '**Anna** approved *Add clear-all*. Merge when ready.', markdown: true },
  { app: 'grafana', title: 'CPU above 90 %', body: 'host nas, 5 min average 93 %', priority: 'high' },
  { app: 'borg', title: 'Prune done', body: 'Kept 7 daily, 4 weekly and 6 monthly archives.', priority: 'low' },
  { app: 'certbot', title: 'Certificate renewed', body: 'example.org is valid until 1 April.', tags: ['lock'] },
  { app: 'home', title: 'Doorbell', body: 'Someone is at the front door.', priority: 'high', tags: ['bell'] },
  { app: 'cron', title: 'Nightly cleanup done', body: 'Removed 312 temporary files.', priority: 'min' },
  { app: 'ci', title: 'Build #1842 failed', body: 'test/integration/cli.test.ts: 2 failures', priority: 'high', tags: ['x', 'ci'], url: 'https://ci.example.com/builds/1842' },
  { app: 'restic', title: 'Backup finished', body: '42 GB in 3 min, 0 errors.', tags: ['white_check_mark', 'nas'] },
];

test('a day of twenty notifications from sixteen apps: a header only where an app has several, emoji tags, at most 2,000 px at 390 px', async () => {
  const { page } = a;
  const ids: string[] = [];
  for (const n of DAY) ids.push(await post(n));
  await waitShown(page, ids);
  await page.evaluate(() => window.scrollTo(0, 0));

  // Headers for restic, ci, cron and home (two each), none for the twelve apps with one; those cards name their app.
  expect((await page.$$eval('.group-name', (h) => h.map((e) => e.textContent))).sort()).toEqual(['ci', 'cron', 'home', 'restic']);
  expect(await page.$$eval('.group-count', (h) => h.map((e) => e.textContent))).toEqual(['2', '2', '2', '2']);
  const lone = await page.$$eval('.group.single .item', (items) => items.map((i) => i.querySelector('.app-name')!.textContent));
  expect(lone.sort()).toEqual(['apt', 'borg', 'calendar', 'certbot', 'docker', 'github', 'grafana', 'mail', 'smartd', 'sonarr', 'uptime', 'zfs']);
  expect(await page.$$eval('.group:not(.single) .item .app-name', (names) => names.filter((n) => !(n as HTMLElement).hidden).length)).toBe(0);

  // ntfy's emoji tags: shortcodes become emoji before the title, other tags stay tags.
  const card = (i: number) => page.locator(`#list .item[data-id="${ids[i]}"]`);
  expect(await card(11).locator('.title').innerText()).toBe('⚠️Disk warning');
  expect(await card(11).locator('.tag').allInnerTexts()).toEqual(['disk']);
  expect(await card(19).locator('.emoji').textContent()).toBe('✅');
  expect(await card(19).locator('.tag').allInnerTexts()).toEqual(['nas']);
  expect(await card(5).locator('.emoji').textContent()).toBe('🚨');
  expect(await card(5).locator('.tag').count()).toBe(0);
  expect(await card(1).locator('.emoji').isHidden()).toBe(true);
  // Markdown rendered, not shown as asterisks.
  expect(await card(12).locator('.body strong').textContent()).toBe('Anna');
  expect(await card(12).locator('.body').innerText()).not.toContain('*');

  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(height).toBeLessThanOrEqual(2000);
  await themes(page, '21-day');
});

test('Markdown bodies render (links open in a new tab) and raw HTML never reaches the page as markup', async () => {
  const { page } = a;
  const hostile = [
    '# Deploy **done**',
    '',
    '- [release notes](https://example.com/notes) and <https://example.com/raw>',
    '- `code` and <img src=x onerror="window.beepXss=1">',
    '',
    '<script>window.beepXss=2</script>',
    '[click me](javascript:window.beepXss=3) [data](data:text/html,<b>x</b>) [vb](vbscript:msgbox)',
    '<a href="javascript:window.beepXss=4" onclick="window.beepXss=5">raw link</a> <b onmouseover="window.beepXss=6">bold?</b>',
    '![tracker](https://tracker.example.com/pixel.png)',
    '',
    '| a | b |',
    '|:--|--:|',
    '| 1 | 2 |',
  ].join('\n');
  const id = await post({ app: 'deploy', title: 'Markdown test', body: hostile, markdown: true, priority: 'high' });
  const plain = await post({ app: 'deploy', title: 'Not Markdown', body: '**stays** as <i>typed</i>' });
  await waitShown(page, [id, plain]);
  const body = page.locator(`#list .item[data-id="${id}"] .body`);
  await page.click(`#list .item[data-id="${id}"] .card-main`);
  const dom = await body.evaluate((el) => ({
    tags: [...new Set([...el.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()))].sort(),
    attributes: [...new Set([...el.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)))].sort(),
    links: [...el.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), target: a.target, rel: a.rel })),
    text: (el as HTMLElement).innerText,
  }));
  expect(dom.tags.filter((t) => ['script', 'img', 'iframe', 'object', 'b', 'i', 'svg', 'style'].includes(t))).toEqual([]);
  expect(dom.tags).toEqual(expect.arrayContaining(['h1', 'strong', 'ul', 'li', 'a', 'code', 'table']));
  expect(dom.attributes.filter((name) => !['href', 'target', 'rel', 'title', 'align'].includes(name))).toEqual([]);
  expect(dom.links.map((l) => l.href)).toEqual(['https://example.com/notes', 'https://example.com/raw', 'https://tracker.example.com/pixel.png']);
  for (const link of dom.links) expect(link).toMatchObject({ target: '_blank', rel: 'noopener noreferrer' });
  expect(dom.text).toContain('<img src=x onerror='); // shown as the text it is
  expect(dom.text).toContain('<script>');
  expect(await page.evaluate(() => (window as any).beepXss)).toBeUndefined();
  // Without `markdown: true` the body is text.
  expect(await page.locator(`#list .item[data-id="${plain}"] .body`).evaluate((el) => [el.childElementCount, el.textContent])).toEqual([
    0,
    '**stays** as <i>typed</i>',
  ]);
  // Hover and click what could have carried handlers; nothing runs.
  await body.locator('text=bold?').hover();
  expect(await page.evaluate(() => (window as any).beepXss)).toBeUndefined();
  await page.locator(`#list .item[data-id="${id}"]`).scrollIntoViewIfNeeded();
  await themes(page, '22-markdown');
  expect(a.problems).toEqual([]); // no CSP violation (no inline style, no image from elsewhere), no error
});

test('clear all: two taps, one `dismiss` event per batch, and the other phone loses them too', async () => {
  const { page } = a;
  const b = await openPhone(`${daemon.gatewayUrl}/`, 'dark');
  await b.page.fill('#pair-code', (await pairing()).code);
  await b.page.click('#pair-submit');
  await connected(b.page);
  const ids: string[] = [];
  for (let i = 0; i < 90; i++) ids.push(await post({ app: i % 3 ? 'backup' : 'ci', title: `Job ${i} done`, body: 'ok' }));
  await waitShown(page, ids);
  await waitShown(b.page, ids);
  const before = a.dismissFrames.length;

  // Filtered: "Clear shown" clears what the filter shows, no more.
  await page.getByRole('button', { name: 'ci', exact: true }).click();
  const ci = await shownIds(page);
  expect(ci).toHaveLength(30 + 2); // 30 jobs and the day's two builds
  expect(await page.textContent('#clear-all')).toBe('Clear shown');
  await page.click('#clear-all');
  expect(await page.textContent('#clear-all')).toBe(`Clear ${ci.length}?`);
  await screenshot(page, '23-clear-armed-light');
  await page.click('#clear-all');
  const allGone = (gone: string[]) => gone.every((id) => !document.querySelector(`#list .item[data-id="${id}"]`));
  await page.waitForFunction(allGone, ci);
  await b.page.waitForFunction(allGone, ci);
  expect(await page.getAttribute('.chip[aria-pressed="true"]', 'aria-pressed')).toBe('true');
  expect(await page.textContent('.chip[aria-pressed="true"]')).toBe('All'); // no ci left: back to every app

  // Everything: each batch of ids is one event, every id dismissed on the daemon and on B.
  await page.getByRole('button', { name: 'All', exact: true }).click();
  const rest = await shownIds(page);
  expect(rest.length).toBeGreaterThan(64);
  await page.click('#clear-all');
  await page.click('#clear-all');
  await page.waitForSelector('#empty:not([hidden])');
  await screenshot(page, '24-cleared-light');
  await b.page.waitForSelector('#empty:not([hidden])');
  await screenshot(b.page, '25-cleared-elsewhere-dark');
  const history = (await daemon.admin('GET', '/api/v1/notifications?limit=200')).body as { id: string; dismissedAt: string | null }[];
  expect(history.filter((n) => !n.dismissedAt)).toEqual([]);
  // Batches stay within 64 ids and 1,800 bytes of ids, whatever the ids' length (the smallest
  // frame a daemon accepts is 2 KiB), checked on the module the page runs.
  const chunks = await page.evaluate(
    "import('/js/connection.js').then(({ dismissChunks }) => [dismissChunks(Array(150).fill('a'.repeat(16)), 64), dismissChunks(Array(60).fill('b'.repeat(64)), 64), dismissChunks(Array(5).fill('c'), 2)].map((runs) => runs.map((r) => r.length)))",
  );
  expect(chunks).toEqual([[64, 64, 22], [26, 26, 8], [2, 2, 1]]);
  const frames = a.dismissFrames.slice(before);
  expect(frames.length).toBe(3); // the 32 shown, then the other 80 in two batches (at most 64 ids each)
  expect(frames.every((f) => f.includes('"ids"'))).toBe(true);
  expect([...a.problems, ...b.problems]).toEqual([]);
  await b.context.close();
});

test('recent history at pairing: ticked on the form, listed as "before pairing", no system notification, not acked', async () => {
  const earlier = [await post({ title: 'Earlier: backup done', app: 'restic' }), await post({ title: 'Earlier: disk warning', app: 'smartd', priority: 4 })];
  const link = await pairing();
  const h = await openPhone(link.url);
  await h.page.waitForSelector('#history-field:not([hidden])');
  expect(await h.page.textContent('#history-field')).toContain('last 12 hours');
  await h.page.check('#pair-history');
  await h.page.click('#pair-submit');
  await connected(h.page);
  await waitShown(h.page, earlier);
  const marked = await h.page.$$eval('#list .item[data-history="true"] .when', (els) => els.map((e) => e.textContent ?? ''));
  expect(marked).toHaveLength(2);
  for (const text of marked) expect(text).toContain('before pairing');
  // Shown quietly: no system notification was raised for them.
  const raised = await h.page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((n) => n.length));
  expect(raised).toBe(0);
  await themes(h.page, '12-history');
  // Not owed: the daemon counts nothing pending for this device.
  const id = await deviceId(h.page);
  const mine = (await daemon.admin('GET', '/api/v1/devices')).body.find((d: { id: string }) => d.id === id);
  expect(mine.pending).toBe(0);
  expect(h.problems).toEqual([]);
  await h.context.close();
});
