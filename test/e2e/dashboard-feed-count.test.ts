/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { Browser, Page } from 'playwright-core';
import { contrastProblems, launchChromium, screenshot } from '../helpers/browser';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// The live feed names the first `dashboard.feedDevicesListed` devices of a notification and
// counts the rest (a relay to 1000 phones shows a count, not 1000 pills). Here the bound is 1 and
// three phones are online: one pill, then "and 2 more devices, 1 acknowledged", kept current by
// the feed's deltas. In headless Chromium against the real daemon.

jest.setTimeout(120_000);

let daemon: RunningDaemon;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  daemon = await startDaemon({ config: { dashboard: { feedDevicesListed: 1 } } });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const login = await daemon.cli(['dashboard', '--no-open']);
  await page.goto(/(http:\/\/\S+)/.exec(login.stdout)![1]);
  await page.locator('#overall').filter({ hasText: 'healthy' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

test('past the listed devices, the feed counts the others and how many acknowledged', async () => {
  const phones = [await Phone.paired(daemon, 'first'), await Phone.paired(daemon, 'second'), await Phone.paired(daemon, 'third')];
  phones[2].ackPolicy = 'none';
  for (const phone of phones) await phone.connect(daemon);
  const id = (await daemon.admin('POST', '/api/v1/notifications', { title: 'To three phones', app: 'ci' })).body.id as string;
  for (const phone of phones) await phone.waitFor(() => phone.unique.has(id), 15_000, 'the notification');

  const row = page.locator(`#feed li[data-notification="${id}"]`);
  const others = row.locator('[data-others]');
  await others.filter({ hasText: 'and 2 more devices, 1 acknowledged' }).waitFor();
  expect(await row.locator('.pill').count()).toBe(1);
  expect(await others.getAttribute('data-others')).toBe('2');
  expect(await contrastProblems(page)).toEqual([]);
  await screenshot(page, 'feed-counted', { dir: 'dashboard', fullPage: true });

  // A page opened now gets the counts with the entry itself (GET /api/v1/activity).
  await page.reload();
  await row.locator('[data-others]').filter({ hasText: 'and 2 more devices, 1 acknowledged' }).waitFor();
});
