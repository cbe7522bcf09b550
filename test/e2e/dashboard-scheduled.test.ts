/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { contrastProblems, horizontalOverflow, launchChromium, screenshot, watchProblems } from '../helpers/browser';
import { createToken, send } from '../helpers/compat';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// The dashboard's Scheduled panel in headless Chromium against the real daemon: ntfy messages
// published with a delay are listed earliest first with when they go out, and one is cancelled
// (two clicks) — gone from the panel and from the daemon's list, never sent; the other stays.
// Screenshots in both themes at 390 and 1280 px go to test-artifacts/dashboard/.

jest.setTimeout(120_000);

let daemon: RunningDaemon;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  daemon = await startDaemon();
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watchProblems(page);
  const link = /(http:\/\/\S+)/.exec((await daemon.cli(['dashboard', '--no-open'])).stdout)![1];
  await page.goto(link);
  await page.locator('#overall').filter({ hasText: 'healthy' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

test('lists what waits, earliest first, and cancels one in two clicks', async () => {
  // The panel shows "Nothing is scheduled" once its first list arrives: waited for, not sampled.
  await page.locator('#no-scheduled').waitFor({ state: 'visible', timeout: 15_000 });
  const token = (await createToken(daemon, 'publish', undefined, 'backups')).token;
  const publish = (title: string, delay: string) =>
    send('POST', `${daemon.adminUrl}/nightly`, `${title} body`, { authorization: `Bearer ${token}`, Title: title, Delay: delay });
  const later = await publish('Weekly report', '2 days');
  const sooner = await publish('Backup reminder', '30m');
  expect([later.status, sooner.status]).toEqual([200, 200]);

  const rows = page.locator('#scheduled li');
  await rows.nth(1).waitFor({ timeout: 15_000 });
  expect(await rows.locator('.name').allTextContents()).toEqual(['Backup reminder', 'Weekly report']);
  expect(await rows.first().locator('time').textContent()).toBe('in 30 min');
  expect(await rows.nth(1).locator('time').textContent()).toBe('in 2 d');
  expect(await rows.first().locator('.pill').textContent()).toBe('nightly');
  expect(await page.locator('#no-scheduled').isVisible()).toBe(false);

  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await page.locator('[data-panel="scheduled"]').scrollIntoViewIfNeeded();
      expect({ colorScheme, width, problems: await contrastProblems(page) }).toEqual({ colorScheme, width, problems: [] });
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `scheduled-${width}-${colorScheme}`, { dir: 'dashboard' });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.getByRole('button', { name: 'Cancel Backup reminder' }).click();
  await page.getByRole('button', { name: 'Confirm cancelling Backup reminder' }).click();
  await page.locator(`#scheduled li[data-scheduled="${sooner.body.id}"]`).waitFor({ state: 'detached' });
  expect(await rows.locator('.name').allTextContents()).toEqual(['Weekly report']);
  const left = (await daemon.admin('GET', '/api/v1/scheduled')).body as { id: string }[];
  expect(left.map((s) => s.id)).toEqual([later.body.id]);
  expect(problems).toEqual([]);
});
