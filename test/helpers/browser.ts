import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// Debian's headless Chromium (driven by playwright-core): plain for the dashboard, and as a phone: a phone-sized touch
// viewport, trusting the daemon's CA by its public key, so the page is a real secure context
// and service workers really register (no ignoreHTTPSErrors).

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'phone');
const PHONE_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's SPKI list wants it. */
function spkiHash(certPem: string): string {
  const spki = new crypto.X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('base64');
}

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a closed network: no background fetches Chromium would fail at. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Plain headless Chromium (the dashboard is served over loopback HTTP). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** Chromium that trusts certificates chaining to `caPem` (the Beep CA). */
export function launchPhoneBrowser(caPem: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...FLAGS, `--ignore-certificate-errors-spki-list=${spkiHash(caPem)}`],
  });
}

/** A fresh phone (its own storage, like a separate device): 390×844 at 2×, touch, Android UA. */
export async function phoneContext(browser: Browser, colorScheme: 'light' | 'dark' = 'light'): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: PHONE_UA,
    colorScheme,
  });
  context.setDefaultTimeout(15_000);
  return context;
}

/** Saves test-artifacts/phone/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Records CSP violations and uncaught errors on a page, for a test to assert there are none. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  if (process.env.BEEP_TEST_BROWSER_LOG) page.on('console', (m) => process.stderr.write(`[browser ${m.type()}] ${m.text()}\n`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  return problems;
}

/** A TCP port free right now, so a restarted daemon can come back on the same origin. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
