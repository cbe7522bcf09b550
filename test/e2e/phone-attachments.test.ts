/// <reference lib="dom" />
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import type { Browser } from 'playwright-core';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { contrastProblems, freePort, horizontalOverflow, launchPhoneBrowser, phoneContext, screenshot, watchProblems } from '../helpers/browser';

// Attachments in the phone app, in headless Chromium against the real daemon: a stored image
// is previewed from its signed link (it loads: the CSP allows it, the bytes decode), a stored
// file of another type is a link with its name and size, and a publisher's `Attach:` URL is a
// link the app never loads (a local server sees no request). Screenshots: test-artifacts/phone/.

jest.setTimeout(120_000);

let daemon: RunningDaemon;
let browser: Browser;

beforeAll(async () => {
  daemon = await startDaemon();
  browser = await launchPhoneBrowser(daemon.caPem);
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A real PNG (a colour gradient), so the preview has something to decode. */
function gradientPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([Math.round((255 * x) / width), Math.round((255 * y) / height), 160], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a stored image is previewed, another file is a link, an Attach: URL is never loaded', async () => {
  const requests: string[] = [];
  const outside = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.end();
  });
  await new Promise<void>((r) => outside.listen(0, '127.0.0.1', r));
  const context = await phoneContext(browser);
  try {
    const page = await context.newPage();
    const problems = watchProblems(page);
    const { url } = (await daemon.admin('POST', '/api/v1/pairings')).body;
    await page.goto(url);
    await page.click('#pair-submit');
    await page.waitForSelector('#conn[data-state="connected"]');

    const token = (await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', name: 'camera' })).body.token as string;
    const publish = async (topic: string, body: Buffer | string, headers: Record<string, string>) => {
      const res = await fetch(`${daemon.adminUrl}/${topic}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });
      expect(res.status).toBe(200);
      return ((await res.json()) as { id: string }).id;
    };
    const image = await publish('garden', gradientPng(320, 200), { Filename: 'garden.png', Title: 'Motion in the garden' });
    const file = await publish('reports', Buffer.from('%PDF-1.4 not really'), { Filename: 'report.pdf', Title: 'Monthly report', Message: 'Attached.' });
    const linkTarget = `http://127.0.0.1:${(outside.address() as AddressInfo).port}/cam/snapshot.jpg`;
    const link = await publish('garden', 'Snapshot from the other camera', { Attach: linkTarget, Title: 'Porch camera' });


    for (const id of [image, file, link]) await page.waitForSelector(`#list .item[data-id="${id}"] .attachment:not([hidden])`);
    const img = page.locator(`#list .item[data-id="${image}"] .attachment img`);
    await page.waitForFunction((id) => {
      const el = document.querySelector<HTMLImageElement>(`#list .item[data-id="${id}"] .attachment img`);
      return el !== null && el.complete && el.naturalWidth === 320;
    }, image);
    expect(await img.getAttribute('src')).toMatch(/^\/file\/[A-Za-z0-9_-]{22}\?exp=\d+&sig=/);
    expect(await img.getAttribute('alt')).toBe('garden.png');

    const fileLink = page.locator(`#list .item[data-id="${file}"] .attachment a`);
    expect(await fileLink.textContent()).toBe('📎 report.pdf · 19 B');
    expect(await fileLink.locator('img').count()).toBe(0);
    const outsideLink = page.locator(`#list .item[data-id="${link}"] .attachment a`);
    expect(await outsideLink.getAttribute('href')).toBe(linkTarget);
    expect(await outsideLink.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await outsideLink.locator('img').count()).toBe(0);

    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      expect({ colorScheme, problems: await contrastProblems(page) }).toEqual({ colorScheme, problems: [] });
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `40-attachments-${colorScheme}`, { fullPage: true });
    }
    // A sentinel after everything: the app had every chance to fetch the outside URL.
    const sentinel = await publish('garden', 'sentinel', { Title: 'sentinel' });
    await page.waitForSelector(`#list .item[data-id="${sentinel}"]`);
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
  } finally {
    await context.close();
    outside.close();
  }
});

test('after a daemon restart (every link dead) the app asks for a fresh link and the preview shows again', async () => {
  const port = await freePort();
  let own = await startDaemon({ env: { BEEP_GATEWAY_PORT: String(port) } });
  const context = await phoneContext(await launchPhoneBrowser(own.caPem).then((b) => ((ownBrowser = b), b)));
  try {
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto((await own.admin('POST', '/api/v1/pairings')).body.url);
    await page.click('#pair-submit');
    await page.waitForSelector('#conn[data-state="connected"]');
    const token = (await own.admin('POST', '/api/v1/tokens', { kind: 'publish', name: 'camera' })).body.token as string;
    const res = await fetch(`${own.adminUrl}/garden`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, Filename: 'g.png' }, body: new Uint8Array(gradientPng(200, 120)) });
    const { id } = (await res.json()) as { id: string };
    const loaded = () =>
      page.waitForFunction((nid) => {
        const el = document.querySelector<HTMLImageElement>(`#list .item[data-id="${nid}"] .attachment img`);
        return el !== null && el.complete && el.naturalWidth === 200;
      }, id);
    await loaded();
    const before = await page.getAttribute(`#list .item[data-id="${id}"] .attachment img`, 'src');

    await own.stop();
    own = await own.restart();
    // The browser kept the image in its cache (it may, while the link lasts): forget it, so the old link is really tried.
    await (await context.newCDPSession(page)).send('Network.clearBrowserCache');
    await page.reload();
    await page.waitForSelector('#conn[data-state="connected"]');
    await loaded();
    const after = await page.getAttribute(`#list .item[data-id="${id}"] .attachment img`, 'src');
    expect(after).not.toBe(before);
    expect(after).toMatch(/^\/file\//);
    expect(problems).toEqual([]);
  } finally {
    await context.close();
    await own.stop();
  }
});

let ownBrowser: Browser | undefined;
afterAll(async () => {
  await ownBrowser?.close();
});
