import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone, type Credentials } from '../helpers/phone';

// The dashboard end to end in headless Chromium: log in with the one-time link `beep
// dashboard` prints, pair a phone with the code shown on the page, rename it, send a test
// notification from the page and see it arrive on the phone and, acknowledged, in the live
// feed; revoke the phone from the page. Screenshots go to test-artifacts/.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');

function loginLink(daemon: RunningDaemon): string {
  const r = spawnSync(process.execPath, [MAIN, '--data-dir', daemon.dataDir, 'dashboard', '--no-open'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return /(http:\/\/\S+)/.exec(r.stdout)![1];
}

describe('dashboard', () => {
  let daemon: RunningDaemon;
  let browser: Browser;
  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    daemon = await startDaemon({ config: { dashboard: { statsIntervalSec: 1 } } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  test('log in, pair, rename, send, see it acknowledged, revoke', async () => {
    const url = loginLink(daemon);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard\/login\?nonce=[A-Za-z0-9_-]{43}$/);
    expect(url).not.toContain(daemon.adminToken);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page: Page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    expect(page.url()).toMatch(/\/dashboard\/$/); // the nonce left the address bar
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'beep_session', httpOnly: true, sameSite: 'Strict' });
    await page.locator('#checks li[data-check="database"] .pill').filter({ hasText: 'ok' }).waitFor();
    await page.locator('#overall').filter({ hasText: 'healthy' }).waitFor();

    // Pair with the code the page shows.
    await page.click('#pair');
    await page.locator('#pair-code').filter({ hasText: /^\d{4} \d{4}$/ }).waitFor();
    const shownCode = (await page.locator('#pair-code').textContent())!.replace(/\s/g, '');
    expect(shownCode).toMatch(/^\d{8}$/);
    expect(await page.locator('#qr svg').count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-pairing.png'), fullPage: true });
    const paired = await daemon.gateway<Credentials>('POST', '/api/v1/pair', { code: shownCode, name: 'Pixel in the test', platform: 'android' });
    expect(paired.status).toBe(201);
    const phone = new Phone(paired.body);
    await phone.connect(daemon);
    await page.click('#pair-close');
    expect(await page.locator('#pairing').isVisible()).toBe(false);
    const row = page.locator(`#devices li[data-device="${paired.body.deviceId}"]`);
    await row.locator('.pill', { hasText: 'online' }).waitFor();

    // Rename it.
    await row.getByRole('button', { name: 'Rename' }).click();
    await row.locator('input[name="name"]').fill('Anna’s phone');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.locator('.name', { hasText: 'Anna’s phone' }).waitFor();
    expect((await daemon.admin('GET', '/api/v1/devices')).body[0].name).toBe('Anna’s phone');

    // Send a test notification from the page: it reaches the phone, and the feed shows it acked.
    await page.fill('#send-title', 'Hello from the dashboard');
    await page.selectOption('#send-priority', '4');
    await page.click('#send-form button[type="submit"]');
    await page.locator('#send-result', { hasText: 'Sent' }).waitFor();
    await phone.waitFor(() => [...phone.unique.values()].some((n) => n.title === 'Hello from the dashboard'), 10_000, 'the test notification');
    const sent = [...phone.unique.values()].find((n) => n.title === 'Hello from the dashboard')!;
    expect(sent).toMatchObject({ priority: 4, app: 'beep dashboard', source: 'http' });
    const item = page.locator(`#feed li[data-notification="${sent.id}"]`);
    await item.locator('.pill[data-status="acked"]', { hasText: 'Anna’s phone' }).waitFor();

    // A few more for the charts and the feed, one to nobody (an offline device is shown as such).
    for (let i = 1; i <= 3; i++) await daemon.admin('POST', '/api/v1/notifications', { title: `Backup ${i} finished`, app: 'restic' });
    await page.waitForFunction("(document.querySelector('#chart-latency path, #chart-latency rect') || { getAttribute: () => '' }).getAttribute('class') !== ''", undefined, { timeout: 10_000 });
    await page.waitForTimeout(6_000); // a few more chart points
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-wide.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-narrow.png'), fullPage: true });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Revoke from the page (two clicks: the button asks for confirmation).
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Confirm revoke' }).click();
    await phone.waitFor(() => phone.revoked, 5_000, 'the revocation');
    await page.locator('#no-devices').waitFor({ state: 'visible' });
    expect((await daemon.admin('GET', '/api/v1/devices')).body).toEqual([]);

    expect(problems).toEqual([]); // no CSP violation, no script error
    await context.close();
  });

  test('the login link works once; cookie writes need the CSRF token; the admin token is not enough for a link in a cookie', async () => {
    const url = loginLink(daemon);
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^beep_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    const again = await fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('beep dashboard');

    const session = cookie.split(';')[0];
    const headers = { cookie: session, 'content-type': 'application/json' };
    const noCsrf = await fetch(`${daemon.adminUrl}/api/v1/notifications`, { method: 'POST', headers, body: JSON.stringify({ title: 'x' }) });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
    const { csrfToken } = (await (await fetch(`${daemon.adminUrl}/api/v1/dashboard/session`, { headers })).json()) as { csrfToken: string };
    const withCsrf = await fetch(`${daemon.adminUrl}/api/v1/notifications`, {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ title: 'from a session' }),
    });
    expect(withCsrf.status).toBe(202);
    // A session cannot mint further login links; only the admin token can.
    const mint = await fetch(`${daemon.adminUrl}/api/v1/dashboard/links`, { method: 'POST', headers: { ...headers, 'x-csrf-token': csrfToken } });
    expect(mint.status).toBe(403);
    const page = await fetch(`${daemon.adminUrl}/dashboard/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).not.toMatch(/<script>|style=/);
    const bogus = await fetch(`${daemon.adminUrl}/api/v1/devices`, { headers: { cookie: 'beep_session=forged' } });
    expect(bogus.status).toBe(401);
  });

  test('PATCH /api/v1/devices/:id: clear errors', async () => {
    const phone = await Phone.paired(daemon, 'to rename');
    const id = phone.credentials.deviceId;
    expect((await daemon.admin('PATCH', `/api/v1/devices/${id}`, { name: '  Kitchen tablet ' })).body).toMatchObject({ id, name: 'Kitchen tablet' });
    expect((await daemon.admin('PATCH', `/api/v1/devices/${id}`, { name: '' })).body.error.code).toBe('validation_failed');
    expect((await daemon.admin('PATCH', `/api/v1/devices/${id}`, { name: 'x'.repeat(65) })).body.error.code).toBe('validation_failed');
    expect((await daemon.admin('PATCH', `/api/v1/devices/${id}`, { name: 5 })).body.error.code).toBe('invalid_type');
    expect((await daemon.admin('PATCH', `/api/v1/devices/${id}`, { name: 'a', admin: true })).body.error.code).toBe('unknown_field');
    const missing = await daemon.admin('PATCH', '/api/v1/devices/nope', { name: 'a' });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'device_not_found']);
    expect((await daemon.admin('PATCH', `/api/v1/devices/${id}`, { name: 'a' }, { authorization: '' })).status).toBe(401);
    await daemon.admin('DELETE', `/api/v1/devices/${id}`);
    expect((await daemon.admin('PATCH', `/api/v1/devices/${id}`, { name: 'a' })).status).toBe(404);
  });
});

describe('dashboard: password login, rules and audit panels', () => {
  let daemon: RunningDaemon;
  let browser: Browser;
  beforeAll(async () => {
    daemon = await startDaemon();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  test('log in with the dashboard password; edit the rules; read the audit log', async () => {
    const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    // No password yet: only the link is offered.
    await page.goto(`${daemon.adminUrl}/dashboard/`);
    await page.locator('#login-needed').waitFor();
    expect(await page.locator('#password-form').isHidden()).toBe(true);
    expect((await daemon.admin('POST', '/dashboard/login', { password: 'x'.repeat(12) })).body.error.code).toBe('password_login_disabled');

    const password = 'correct horse battery';
    const set = await daemon.cli(['admin', 'password', 'set'], { input: `${password}\n` });
    expect(set.status).toBe(0);
    await page.reload();
    await page.locator('#password-form').waitFor();
    await page.fill('#login-password', 'wrong password!!');
    await page.click('#password-form button[type="submit"]');
    await page.locator('#login-error').filter({ hasText: 'wrong' }).waitFor();
    await page.fill('#login-password', password);
    await page.click('#password-form button[type="submit"]');
    await page.locator('#overall').filter({ hasText: 'healthy' }).waitFor();
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'beep_session', httpOnly: true, sameSite: 'Strict' });

    // Rules: the page shows them, a bad edit is refused with the reason, a good one applies.
    await page.waitForFunction(() => (document.getElementById('rules-json') as HTMLTextAreaElement).value.includes('minPriority'));
    await page.check('#rules-advanced'); // the raw JSON behind the rules form
    const rules = JSON.parse(await page.inputValue('#rules-json'));
    await page.fill('#rules-json', JSON.stringify({ ...rules, minPriority: 9 }));
    await page.click('#rules-form button[type="submit"]');
    await page.locator('#rules-result.error').waitFor();
    await page.fill('#rules-json', JSON.stringify({ ...rules, minPriority: 4 }));
    await page.click('#rules-form button[type="submit"]');
    await page.locator('#rules-result').filter({ hasText: 'Saved' }).waitFor();
    expect((await daemon.admin('GET', '/api/v1/rules')).body.minPriority).toBe(4);
    const muted = await daemon.admin('POST', '/api/v1/notifications', { title: 'below the new minimum', priority: 2 });
    expect(muted.body).toMatchObject({ id: null, muted: expect.any(String) });

    // Audit: the failed and the good login and the password change are there, chain intact.
    await page.locator('#audit tr').filter({ hasText: 'dashboard login' }).waitFor({ timeout: 20_000 });
    const audit = await page.locator('#audit').textContent();
    expect(audit).toContain('auth failed');
    expect(audit).toContain('admin password set');
    await page.locator('#audit-verdict').filter({ hasText: 'chain intact' }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-rules-audit-narrow.png'), fullPage: true });
    expect(problems).toEqual([]);

    // Five wrong passwords lock the address out.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await daemon.admin('POST', '/dashboard/login', { password: `wrong guess ${i}!!` })).status);
    expect(statuses).toContain(429);
  });
});
