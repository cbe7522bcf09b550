import { base32Decode, totpAt } from '../../app/auth/totp';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { openEventStream, requestFrom, until, type Answer } from '../helpers/from-address';

// Logins attacked from the LAN and from web pages in the owner's browser: the Gotify login
// must not tell a right password from a wrong one when TOTP is on; a web page must not be able
// to spend the dashboard's login budget; a TOTP code works once, across a restart too; logout
// and a password change end sessions and close their live feeds. Each attack uses its own
// loopback source address, so budgets do not mix between tests.

const PASSWORD = 'login test password';
const TOKEN_FAILURES = 3;
const LOGIN_ATTEMPTS = 5;

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon({
    config: {
      rateLimits: { gatewayPerIpPerMin: 100_000, blockAfterViolations: 10_000, pairingAttempts: LOGIN_ATTEMPTS },
      compat: { tokenFailures: TOKEN_FAILURES },
    },
  });
});

afterAll(async () => {
  await daemon?.stop();
});

/** Sets the dashboard password through the admin API; the TOTP secret when asked for. */
async function setPassword(password: string, totp = false): Promise<string | undefined> {
  const res = await daemon.admin('PUT', '/api/v1/admin/password', { password, totp });
  expect(res.status).toBe(200);
  return res.body.totpSecret;
}

const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
const gotifyLogin = (from: string, password: string) => requestFrom(daemon, 'gateway', 'GET', '/current/user', { from, headers: basic(password) });
const sameOrigin = () => `http://127.0.0.1:${daemon.runtime.adminPort}`;

/** A dashboard password login as the dashboard page itself sends it. */
function dashboardLogin(from: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  return requestFrom(daemon, 'admin', 'POST', '/dashboard/login', {
    from,
    headers: { 'content-type': 'application/json', origin: sameOrigin(), ...headers },
    body: JSON.stringify(body),
  });
}

function sessionOf(answer: Answer): string {
  const cookie = String(answer.headers['set-cookie'] ?? '');
  const match = /beep_session=([^;]+)/.exec(cookie);
  if (!match) throw new Error(`no session cookie in ${cookie}`);
  return `beep_session=${match[1]}`;
}

test('item 8: with TOTP on, the Gotify login answers 403 before looking at the password: right and wrong alike, no budget spent', async () => {
  await setPassword(PASSWORD, true);
  const from = '127.0.0.81';
  const wrong = await gotifyLogin(from, 'not the password at all');
  const right = await gotifyLogin(from, PASSWORD);
  expect(wrong).toMatchObject({ status: 403, code: 'gotify_totp_unsupported' });
  expect(right).toMatchObject({ status: 403, code: 'gotify_totp_unsupported' });
  expect(wrong.body).toEqual(right.body);
  // Many more wrong passwords than the budget: still 403, never 429 (no point was spent) ...
  for (let i = 0; i < TOKEN_FAILURES + 2; i++) expect((await gotifyLogin(from, `wrong ${i}`)).status).toBe(403);
  // ... so once TOTP is off, the right password works from the same address at once.
  await setPassword(PASSWORD);
  expect((await gotifyLogin(from, PASSWORD)).status).toBe(200);
});

test('item 10: a web page cannot spend the dashboard login budget; only same-origin JSON attempts count', async () => {
  await setPassword(PASSWORD);
  // Every local browser tab comes from 127.0.0.1: the key all local browsers share.
  const from = '127.0.0.1';
  const evil = 'http://evil.example';
  const attacks: Answer[] = [];
  for (let i = 0; i < LOGIN_ATTEMPTS + 2; i++) {
    // What a cross-site <form> or no-cors fetch can send: text/plain or a form body, a foreign Origin.
    attacks.push(
      await requestFrom(daemon, 'admin', 'POST', '/dashboard/login', {
        from,
        headers: { 'content-type': 'text/plain', origin: evil },
        body: JSON.stringify({ password: `guess ${i}` }),
      }),
    );
    attacks.push(
      await requestFrom(daemon, 'admin', 'POST', '/dashboard/login', {
        from,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
        body: `password=guess${i}`,
      }),
    );
    // Without any Origin (an old browser's form post): the content type alone keeps it out.
    attacks.push(
      await requestFrom(daemon, 'admin', 'POST', '/dashboard/login', {
        from,
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ password: `guess ${i}` }),
      }),
    );
    attacks.push(await dashboardLogin(from, { password: `guess ${i}` }, { origin: evil }));
    attacks.push(await dashboardLogin(from, { password: `guess ${i}` }, { origin: 'null' }));
  }
  expect(new Set(attacks.map((a) => a.code))).toEqual(new Set(['forbidden_origin', 'unsupported_media_type']));
  expect(attacks.filter((a) => a.status === 401 || a.status === 429)).toEqual([]);
  // The owner still logs in.
  expect((await dashboardLogin(from, { password: PASSWORD })).status).toBe(204);
  // Same-origin wrong passwords still count.
  const wrong: number[] = [];
  for (let i = 0; i < LOGIN_ATTEMPTS + 1; i++) wrong.push((await dashboardLogin('127.0.0.91', { password: `wrong guess ${i}` })).status);
  expect(wrong).toEqual([...Array(LOGIN_ATTEMPTS).fill(401), 429]);
});

test('item 11: logout ends the session and closes its live feed', async () => {
  await setPassword(PASSWORD);
  const from = '127.0.0.101';
  const cookie = sessionOf(await dashboardLogin(from, { password: PASSWORD }));
  const csrf = (await requestFrom(daemon, 'admin', 'GET', '/api/v1/dashboard/session', { from, headers: { cookie } })).body.csrfToken as string;
  const feed = await openEventStream(daemon, '/api/v1/activity/stream', { from, headers: { cookie } });
  expect(feed.status).toBe(200);
  const other = await openEventStream(daemon, '/api/v1/activity/stream', { headers: { authorization: `Bearer ${daemon.adminToken}` } });

  const out = await requestFrom(daemon, 'admin', 'POST', '/api/v1/dashboard/logout', { from, headers: { cookie, 'x-csrf-token': csrf } });
  expect(out.status).toBe(204);
  await until(() => feed.closed(), 'the logged-out feed to close');
  expect((await requestFrom(daemon, 'admin', 'GET', '/api/v1/activity', { from, headers: { cookie } })).status).toBe(401);
  // A feed opened with the admin token belongs to no session and stays open.
  expect(other.closed()).toBe(false);
  other.close();
});

test('item 11: a password change ends every session and closes their live feeds', async () => {
  await setPassword(PASSWORD);
  const from = '127.0.0.102';
  const first = sessionOf(await dashboardLogin(from, { password: PASSWORD }));
  const second = sessionOf(await dashboardLogin(from, { password: PASSWORD }));
  const feed = await openEventStream(daemon, '/api/v1/activity/stream', { from, headers: { cookie: first } });
  expect(feed.status).toBe(200);
  expect((await requestFrom(daemon, 'admin', 'GET', '/api/v1/activity', { from, headers: { cookie: second } })).status).toBe(200);

  await setPassword(`${PASSWORD} changed`);
  await until(() => feed.closed(), 'the feed to close after the password change');
  for (const cookie of [first, second]) {
    expect((await requestFrom(daemon, 'admin', 'GET', '/api/v1/activity', { from, headers: { cookie } })).status).toBe(401);
  }
  await setPassword(PASSWORD);
});

test('item 11: a TOTP code works once, also after a restart within its window; an older code after a newer is refused', async () => {
  const secret = base32Decode((await setPassword(PASSWORD, true))!);
  const from = '127.0.0.111';
  const now = Date.now();
  const code = totpAt(secret, now);
  expect((await dashboardLogin(from, { password: PASSWORD, totp: code })).status).toBe(204);
  expect(await dashboardLogin(from, { password: PASSWORD, totp: code })).toMatchObject({ status: 401, code: 'invalid_credentials' });
  // The previous step's code is still inside the ±1 step window, but older than the one used.
  expect((await dashboardLogin(from, { password: PASSWORD, totp: totpAt(secret, now - 30_000) })).status).toBe(401);

  await daemon.stop();
  daemon = await daemon.restart();
  // Still inside the code's window (it is accepted for at least 30 s after its step ends)...
  expect(Date.now() - now).toBeLessThan(30_000);
  // ... and refused: the used step survived the restart.
  expect(await dashboardLogin(from, { password: PASSWORD, totp: code })).toMatchObject({ status: 401, code: 'invalid_credentials' });
  await setPassword(PASSWORD);
});
