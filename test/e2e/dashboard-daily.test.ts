/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { contrastProblems, horizontalOverflow, launchChromium, screenshot } from '../helpers/browser';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// The dashboard for daily use, in headless Chromium against the real daemon: dark mode and AA
// contrast in both themes, a layout that fills its rows, the "link already used" page on a
// phone, dismissals in the live feed, the rules as a form (saved rules come back from GET), the
// audit log as a table, API tokens created (shown once, with what to type into ntfy or Gotify),
// used for an ntfy publish, and revoked. Screenshots go to test-artifacts/dashboard/.

jest.setTimeout(120_000);

let daemon: RunningDaemon;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

async function loginLink(): Promise<string> {
  const r = await daemon.cli(['dashboard', '--no-open']);
  expect(r.status).toBe(0);
  return /(http:\/\/\S+)/.exec(r.stdout)![1];
}

/** Contrast in both themes, no sideways scroll, and screenshots at 390 and 1280 px, light and dark. */
async function themes(p: Page, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await p.emulateMedia({ colorScheme });
    for (const width of [390, 1280]) {
      await p.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      expect({ name, colorScheme, width, problems: await contrastProblems(p) }).toEqual({ name, colorScheme, width, problems: [] });
      expect(await horizontalOverflow(p)).toBeLessThanOrEqual(0);
      await screenshot(p, `${name}-${width}-${colorScheme}`, { dir: 'dashboard', fullPage: true });
    }
  }
  await p.emulateMedia({ colorScheme: 'light' });
  await p.setViewportSize({ width: 1280, height: 900 });
}

beforeAll(async () => {
  daemon = await startDaemon({ config: { dashboard: { statsIntervalSec: 1 } } });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  // Script errors and CSP refusals; an API answer the test provokes (a 400) is not a problem.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(await loginLink());
  await page.locator('#overall').filter({ hasText: 'healthy' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

test('the "link already used" page reads on a phone, in both themes', async () => {
  const link = await loginLink();
  expect((await fetch(link, { redirect: 'manual' })).status).toBe(303);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const used = await phone.newPage();
  const response = await used.goto(link);
  expect(response!.status()).toBe(401);
  expect(await used.getAttribute('meta[name="viewport"]', 'content')).toContain('width=device-width');
  expect(await used.textContent('h2')).toContain('already used or has expired');
  // Laid out for the phone's width, not a shrunk 980 px desktop page: text stays readable.
  expect(await used.evaluate(() => window.innerWidth)).toBe(390);
  expect(await used.evaluate(() => parseFloat(getComputedStyle(document.querySelector('p')!).fontSize))).toBeGreaterThanOrEqual(14);
  await themes(used, '01-link-used');
  await phone.close();
});

test('dark mode, three cards filling the first row at 1280 px, dismissals in the live feed, the audit log as a table', async () => {
  const phone = await Phone.paired(daemon, 'Anna’s phone');
  await phone.connect(daemon);
  const kept = (await daemon.admin('POST', '/api/v1/notifications', { title: 'Backup finished', app: 'restic' })).body.id as string;
  const gone = (await daemon.admin('POST', '/api/v1/notifications', { title: 'Doorbell', app: 'home', priority: 'high' })).body.id as string;
  await phone.waitFor(() => phone.unique.has(kept) && phone.unique.has(gone), 15_000, 'both notifications');
  expect(await phone.dismiss(gone)).toEqual({ ok: true });
  const dismissed = page.locator(`#feed li[data-notification="${gone}"] .pill[data-status="dismissed"]`);
  await dismissed.waitFor();
  expect(await dismissed.textContent()).toBe('dismissed on Anna’s phone');
  await page.locator(`#feed li[data-notification="${kept}"] .pill[data-status="acked"]`).waitFor();
  expect(await page.locator(`#feed li[data-notification="${kept}"] .pill[data-status="dismissed"]`).count()).toBe(0);

  // Status, Devices and Send fill the first row: no empty fourth column.
  const box = async (panel: string) => (await page.locator(`[data-panel="${panel}"]`).boundingBox())!;
  const [status, devices, send, rules] = [await box('status'), await box('devices'), await box('send'), await box('rules')];
  expect([devices.y, send.y]).toEqual([status.y, status.y]);
  expect(Math.abs(status.x - rules.x)).toBeLessThan(2);
  expect(Math.abs(send.x + send.width - (rules.x + rules.width))).toBeLessThan(2);
  // The feed and the tokens panel share the second row the same way.
  const [feed, tokens] = [await box('feed'), await box('tokens')];
  expect(tokens.y).toBe(feed.y);
  expect(Math.abs(tokens.x + tokens.width - (rules.x + rules.width))).toBeLessThan(2);

  // Dark mode follows the system: dark page, light text.
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await page.evaluate(() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.querySelector('.card')!).color]);
  expect(dark).toEqual(['rgb(15, 17, 21)', 'rgb(230, 232, 238)']);
  await page.emulateMedia({ colorScheme: 'light' });

  // The audit log: a table of time, event, by whom and readable details (not JSON).
  const auditRow = page.locator('#audit tr').filter({ hasText: 'device paired' }).first();
  await auditRow.waitFor({ timeout: 20_000 });
  expect(await auditRow.locator('td').count()).toBe(4);
  expect(await page.$$eval('.audit-table th', (th) => th.map((h) => h.textContent))).toEqual(['Time', 'Event', 'By', 'Details']);
  expect(await page.locator('#audit').textContent()).not.toMatch(/[{"]/);
  await themes(page, '02-overview');
  phone.disconnect();
});

test('the rules form: saved rules come back from GET; "Edit as JSON" shows them; a bad pattern is refused with the reason', async () => {
  await page.locator('#rule-min-priority').waitFor();
  await page.fill('#rule-deny', 'spotify*, steam');
  await page.selectOption('#rule-min-priority', '2');
  await page.click('#rule-add-window');
  const window = page.locator('#rule-windows .window').last();
  await window.locator('input[value="sat"]').uncheck();
  await window.locator('input[value="sun"]').uncheck();
  await window.locator('.start').fill('23:00');
  await window.locator('.end').fill('07:30');
  await page.fill('#rule-time-zone', 'Europe/Berlin');
  await page.click('#rule-add-keyword');
  const keyword = page.locator('#rule-keywords .keyword').last();
  await keyword.locator('.pattern').fill('password reset|one-time code');
  await keyword.locator('.action').selectOption('redact');
  await keyword.locator('.replacement').fill('[hidden]');
  await keyword.locator('.apps').fill('mail*');
  await page.fill('#rule-duplicates', '30');
  await page.fill('#rule-burst-threshold', '5');
  await page.fill('#rule-burst-window', '20');
  await themes(page, '03-rules-form');
  await page.click('#rules-form button[type="submit"]');
  await page.locator('#rules-result').filter({ hasText: 'Saved' }).waitFor();

  const saved = (await daemon.admin('GET', '/api/v1/rules')).body;
  expect(saved).toMatchObject({
    apps: { allow: [], deny: ['spotify*', 'steam'] },
    minPriority: 2,
    quietHours: { timeZone: 'Europe/Berlin', allowUrgent: true, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '23:00', end: '07:30' }] },
    keywords: [{ pattern: 'password reset|one-time code', flags: 'i', action: 'redact', apps: ['mail*'], replacement: '[hidden]' }],
    duplicates: { windowSec: 30 },
    burst: { threshold: 5, windowSec: 20 },
  });
  // The rules really apply: a redacted match.
  const redacted = await daemon.admin('POST', '/api/v1/notifications', { title: 'Your one-time code', body: 'x', app: 'mailer', priority: 'urgent' });
  const stored = (await daemon.admin('GET', '/api/v1/notifications?limit=1')).body[0];
  expect([redacted.status, stored.title]).toEqual([202, 'Your [hidden]']);

  await page.check('#rules-advanced');
  expect(JSON.parse(await page.inputValue('#rules-json'))).toEqual(saved);
  await screenshot(page, '04-rules-json-1280-light', { dir: 'dashboard' });
  await page.uncheck('#rules-advanced');

  await page.click('#rule-add-keyword');
  await page.locator('#rule-keywords .keyword .pattern').last().fill('(unclosed');
  await page.click('#rules-form button[type="submit"]');
  await page.locator('#rules-result.error').filter({ hasText: 'regular expression' }).waitFor();
  expect((await daemon.admin('GET', '/api/v1/rules')).body).toEqual(saved);
  await page.locator('#rule-keywords .keyword .remove').last().click();
  await page.click('#rules-form button[type="submit"]');
  await page.locator('#rules-result').filter({ hasText: 'Saved' }).waitFor();
  // Back to letting everything through, for the tests after this one.
  expect((await daemon.admin('PUT', '/api/v1/rules', {})).status).toBe(200);
});

test('API tokens: created and shown once with the ntfy and Gotify settings; it publishes; revoked, it is refused', async () => {
  await page.check('#token-form input[value="publish"]');
  await page.fill('#token-name', 'backups');
  await page.fill('#token-topics', 'alerts');
  await page.click('#token-form button[type="submit"]');
  await page.locator('#token-new').waitFor();
  const secret = (await page.locator('#token-settings dd code').first().textContent())!;
  expect(secret.length).toBeGreaterThan(20);
  const commands = await page.locator('#token-settings').textContent();
  expect(commands).toContain(`curl -H "Authorization: Bearer ${secret}"`);
  expect(commands).toContain(`${daemon.adminUrl}/alerts`);
  expect(commands).toContain(`${daemon.adminUrl}/message?token=${secret}`);
  await themes(page, '05-token-publish');

  const publish = (token: string) =>
    fetch(`${daemon.adminUrl}/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, title: 'From the token' }, body: 'it works' });
  const published = await publish(secret);
  expect(published.status).toBe(200);
  expect(((await published.json()) as { topic: string }).topic).toBe('alerts');

  // Shown once: after "Done" the secret is gone from the page, and the list never shows it.
  await page.click('#token-done');
  expect(await page.content()).not.toContain(secret);
  const row = page.locator('#tokens li').filter({ hasText: 'backups' });
  await row.waitFor();
  expect(await row.textContent()).toContain('topics alerts');

  // A subscribe token for a phone: the ntfy app's service URL, user and password, the Gotify client token.
  await page.fill('#token-name', 'Anna’s phone');
  await page.click('#token-form button[type="submit"]');
  await page.locator('#token-new').waitFor();
  const settings = await page.$$eval('#token-settings dl', (lists) =>
    lists.map((dl) => Object.fromEntries([...dl.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling!.querySelector('code')!.textContent]))),
  );
  const [ntfy, gotify] = settings;
  expect(ntfy['Service URL']).toMatch(new RegExp(`^https://[^/]+:${daemon.runtime.gatewayPort}$`));
  expect(gotify['Server URL']).toBe(ntfy['Service URL']);
  expect(gotify['Client token']).toBe(ntfy.Password);
  const poll = await fetch(`${daemon.adminUrl}/alerts/json?poll=1&since=all`, { headers: { authorization: `Bearer ${ntfy.Password}` } });
  expect(poll.status).toBe(200);
  expect(await poll.text()).toContain('it works');
  await themes(page, '06-token-subscribe');
  await page.click('#token-done');

  // Revoke (two clicks); the token is refused at once.
  await row.getByRole('button', { name: 'Revoke backups' }).click();
  await row.getByRole('button', { name: 'Confirm revoking backups' }).click();
  await row.waitFor({ state: 'detached' });
  expect([401, 403]).toContain((await publish(secret)).status);
  expect((await daemon.admin('GET', '/api/v1/tokens')).body.map((t: { name: string }) => t.name)).toEqual(['Anna’s phone']);
  expect(problems).toEqual([]);
});
