import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// Debian's headless Chromium (driven by playwright-core): plain for the dashboard, and as a phone: a phone-sized touch
// viewport, trusting the daemon's CA by its public key, so the page is a real secure context
// and service workers really register (no ignoreHTTPSErrors).

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
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

/** Saves test-artifacts/<dir>/<name>.png (the phone app's by default; `fullPage` for the whole scroll height). */
export async function screenshot(page: Page, name: string, options: { dir?: 'phone' | 'dashboard'; fullPage?: boolean } = {}): Promise<void> {
  const dir = path.join(ARTIFACTS, options.dir ?? 'phone');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: options.fullPage ?? false });
}

/** How far the page scrolls sideways (0 when nothing is wider than the viewport). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

export interface ContrastProblem {
  text: string;
  where: string;
  ratio: number;
  needed: number;
  color: string;
  background: string;
}

/**
 * WCAG 2 AA contrast of every visible piece of text on the page (text nodes and form values)
 * against the background actually behind it: each ancestor's background colour composited from
 * the root down, the text's colour scaled by its opacity. Colours are read back through a
 * canvas, so color-mix() and every CSS colour syntax count. Large text (24 px, or 18.66 px
 * bold) needs 3:1, the rest 4.5:1. Returns what fails.
 */
export function contrastProblems(page: Page): Promise<ContrastProblem[]> {
  return page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const rgba = (css: string): [number, number, number, number] => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = '#000';
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const over = (top: number[], under: number[]) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
    const luminance = (c: number[]) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const hex = (c: number[]) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
    const describe = (el: Element) => {
      const id = el.id ? `#${el.id}` : '';
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      return `${el.tagName.toLowerCase()}${id}${cls}`;
    };
    /** The opaque colour behind `el`, and the opacity it is drawn with. */
    const backdrop = (el: Element) => {
      const chain: Element[] = [];
      for (let e: Element | null = el; e; e = e.parentElement) chain.unshift(e);
      let color = [255, 255, 255, 1];
      let opacity = 1;
      for (const e of chain) {
        const style = getComputedStyle(e);
        color = over(rgba(style.backgroundColor), color);
        opacity *= Number(style.opacity);
      }
      return { color, opacity };
    };
    const problems: { text: string; where: string; ratio: number; needed: number; color: string; background: string }[] = [];
    const seen = new Set<Element>();
    const check = (el: Element, text: string) => {
      if (seen.has(el)) return;
      seen.add(el);
      const style = getComputedStyle(el);
      const rect = el.getBoundingClientRect();
      if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) || rect.width < 2 || rect.height < 2) return;
      if (style.clipPath.includes('inset(50%') || (el as HTMLElement).closest('[aria-hidden="true"], svg')) return;
      const { color: bg, opacity } = backdrop(el);
      const fg = rgba(style.color);
      const ink = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
      const [hi, lo] = [luminance(ink), luminance(bg)].sort((a, b) => b - a);
      const ratio = Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      if (ratio < needed) problems.push({ text: text.slice(0, 40), where: describe(el), ratio, needed, color: hex(ink), background: hex(bg) });
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent!.trim();
      if (text && node.parentElement && !['SCRIPT', 'STYLE', 'TEMPLATE'].includes(node.parentElement.tagName)) check(node.parentElement, text);
    }
    for (const input of Array.from(document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input:not([type=hidden]), select, textarea'))) {
      if (input.value) check(input, input.value);
    }
    return problems;
  });
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
