/// <reference lib="dom" />
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { contrastProblems, horizontalOverflow, launchPhoneBrowser, phoneContext, screenshot, watchProblems } from '../helpers/browser';

// ntfy action buttons in the phone app, headless Chromium against the real daemon: a view
// action is a link that opens in a new tab (and clears when it says so), an http action a
// button the PC performs (the request reaches a local test server listed in
// compat.ntfy.httpActionHosts), its result shown on the card; an unlisted host's refusal is
// shown too, and `clear` takes the card away. AA contrast, no sideways scroll, screenshots in
// test-artifacts/phone/.

jest.setTimeout(120_000);

let daemon: RunningDaemon;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let target: http.Server;
let targetUrl: string;
let token: string;
const seen: { method: string; url: string; auth?: string; body: string }[] = [];

beforeAll(async () => {
  target = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Garage door closing');
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  daemon = await startDaemon({ config: { compat: { ntfy: { httpActionHosts: ['127.0.0.1'] } } } });
  browser = await launchPhoneBrowser(daemon.caPem);
  token = (await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', name: 'garage' })).body.token;
  context = await phoneContext(browser);
  page = await context.newPage();
  problems = watchProblems(page);
  await page.goto((await daemon.admin('POST', '/api/v1/pairings')).body.url);
  await page.click('#pair-submit');
  await page.waitForSelector('#conn[data-state="connected"]');
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
});

async function publish(title: string, actions: string): Promise<string> {
  const res = await fetch(`${daemon.adminUrl}/garage`, { method: 'POST', headers: { authorization: `Bearer ${token}`, title, actions }, body: `${title}: the door is open` });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

const card = (id: string) => `#list .item[data-id="${id}"]`;

test('view and http buttons: the link opens, the PC sends the request, the result is shown, clear takes the card away', async () => {
  const id = await publish(
    'Garage',
    `view, Camera, https://cam.example/, clear=false; http, Close door, ${targetUrl}/close, method=PUT, headers.Authorization=Bearer d00r-key, body=close; http, Elsewhere, https://api.mygarage.lan/x`,
  );
  await page.waitForSelector(`${card(id)} .action-button`);
  const buttons = await page.$$eval(`${card(id)} .action-button`, (els) => els.map((e) => [e.tagName, e.textContent, e.getAttribute('href'), e.getAttribute('target')]));
  expect(buttons).toEqual([
    ['A', 'Camera', 'https://cam.example/', '_blank'],
    ['BUTTON', 'Close door', null, null],
    ['BUTTON', 'Elsewhere', null, null],
  ]);

  // A view link opens a new tab (its page is not loaded here: nothing routes to cam.example).
  await context.route('https://cam.example/**', (route) => route.fulfill({ status: 200, body: 'camera' }));
  const [tab] = await Promise.all([context.waitForEvent('page'), page.click(`${card(id)} a.action-button`)]);
  expect(tab.url()).toBe('https://cam.example/');
  await tab.close();
  expect(await page.$(card(id))).not.toBeNull(); // clear=false: still listed

  await page.click(`${card(id)} button.action-button:has-text("Close door")`);
  await page.waitForFunction((sel) => document.querySelector(`${sel} .action-result`)?.textContent?.includes('200'), card(id));
  expect(await page.textContent(`${card(id)} .action-result`)).toBe('Close door: 200 · Garage door closing');
  expect(seen).toEqual([{ method: 'PUT', url: '/close', auth: 'Bearer d00r-key', body: 'close' }]);

  await page.click(`${card(id)} button.action-button:has-text("Elsewhere")`);
  await page.waitForFunction((sel) => document.querySelector(`${sel} .action-result`)?.textContent?.includes('not on'), card(id));
  expect(await page.getAttribute(`${card(id)} .action-result`, 'data-ok')).toBe('false');
  expect(seen).toHaveLength(1);

  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    expect({ colorScheme, problems: await contrastProblems(page) }).toEqual({ colorScheme, problems: [] });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, `60-actions-${colorScheme}`, { fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });

  const cleared = await publish('Lights', `http, Lights off, ${targetUrl}/lights, clear=true`);
  await page.click(`${card(cleared)} button.action-button`);
  await page.waitForSelector(card(cleared), { state: 'detached' });
  expect(seen.map((s) => s.url)).toEqual(['/close', '/lights']);
  const stored = (await daemon.admin('GET', '/api/v1/notifications?limit=10')).body.find((n: any) => n.id === cleared);
  expect(stored.dismissedAt).toEqual(expect.any(String));
  expect(problems).toEqual([]);
});

test('a button tapped in a tab waiting for the connection: that tab takes the connection over and the PC performs it', async () => {
  const other = await context.newPage();
  const otherProblems = watchProblems(other);
  await other.goto(`${daemon.gatewayUrl}/`);
  await other.waitForSelector('#conn[data-state="connected"]');
  await page.waitForSelector('#conn[data-state="elsewhere"]'); // one connection per device: the older tab waits in line
  const id = await publish('Gate', `http, Open gate, ${targetUrl}/gate`);
  await page.waitForSelector(`${card(id)} button.action-button`); // shown from the shared store
  await page.click(`${card(id)} button.action-button`);
  await page.waitForFunction((sel) => document.querySelector(`${sel} .action-result`)?.textContent?.includes('200'), card(id));
  expect(await page.getAttribute('#conn', 'data-state')).toBe('connected');
  await other.waitForSelector('#conn[data-state="elsewhere"]');
  expect(seen.map((s) => s.url)).toContain('/gate');
  await other.close();
  expect([...problems, ...otherProblems]).toEqual([]);
});
