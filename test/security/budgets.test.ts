import crypto from 'node:crypto';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { requestFrom, type Answer, type FromOptions } from '../helpers/from-address';

// Failure budgets under concurrency: many wrong attempts fired at once from one address must
// not get more of them evaluated (a code looked up, a bcrypt run) than the budget allows.
// Each attack comes from its own loopback source address (127.0.0.0/8), so the budgets of the
// four entry points (pairing, Gotify login, dashboard login, API tokens) do not mix; the
// request budgets of the gateway and the IP block are lifted so only the failure budgets act.

const PASSWORD = 'budget test password';
const PAIRING_ATTEMPTS = 5;
const TOKEN_FAILURES = 10;

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon({
    config: {
      gateway: { trustProxyHops: 1 },
      rateLimits: { gatewayPerIpPerMin: 100_000, blockAfterViolations: 10_000, pairingAttempts: PAIRING_ATTEMPTS },
      compat: { tokenFailures: TOKEN_FAILURES },
    },
  });
  expect((await daemon.cli(['admin', 'password', 'set'], { input: `${PASSWORD}\n` })).status).toBe(0);
});

afterAll(async () => {
  await daemon?.stop();
});

/** One request from a chosen local address (and optionally a forwarded one). */
function request(listener: 'admin' | 'gateway', method: string, path: string, options: FromOptions): Promise<Answer> {
  return requestFrom(daemon, listener, method, path, options);
}

function tally(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

async function auditFor(actor: string, event: string): Promise<unknown[]> {
  const entries = (await daemon.admin('GET', '/api/v1/audit?limit=500')).body as { event: string; actor: string }[];
  return entries.filter((e) => e.actor === actor && e.event === event);
}

const json = { 'content-type': 'application/json' };
const wrongCode = () => crypto.randomInt(0, 1e8).toString().padStart(8, '0');
const pair = (from: string, code: string, forwarded?: string) =>
  request('gateway', 'POST', '/api/v1/pair', {
    from,
    headers: { ...json, ...(forwarded ? { 'x-forwarded-for': forwarded } : {}) },
    body: JSON.stringify({ code, name: 'guess', platform: 'test' }),
  });

test('48 concurrent wrong pairing codes from one address: at most the budget (5) are looked up', async () => {
  const from = '127.0.0.11';
  const answers = await Promise.all(Array.from({ length: 48 }, () => pair(from, wrongCode())));
  const counts = tally(answers);
  expect(counts).toEqual({ 401: PAIRING_ATTEMPTS, 429: 48 - PAIRING_ATTEMPTS });
  expect((await auditFor(`ip:${from}`, 'pairing_failed')).length).toBeLessThanOrEqual(PAIRING_ATTEMPTS);
});

test('a good pairing code gives its point back: the budget counts failures only', async () => {
  const from = '127.0.0.12';
  for (let i = 0; i < PAIRING_ATTEMPTS + 2; i++) {
    const code = (await daemon.admin('POST', '/api/v1/pairings')).body.code as string;
    expect((await pair(from, code)).status).toBe(201);
  }
  expect((await pair(from, wrongCode())).status).toBe(401);
});

test('IPv6 clients share one budget per /64; an IPv4-mapped address is its IPv4 address', async () => {
  const from = '127.0.0.13';
  const sameNet = Array.from({ length: PAIRING_ATTEMPTS + 1 }, (_, i) => `2001:db8:1:2::${(i + 1).toString(16)}`);
  const answers: Answer[] = [];
  for (const ip of sameNet) answers.push(await pair(from, wrongCode(), ip));
  expect(answers.map((a) => a.status)).toEqual([...Array(PAIRING_ATTEMPTS).fill(401), 429]);
  // The next /64 has its own budget.
  expect((await pair(from, wrongCode(), '2001:db8:1:3::1')).status).toBe(401);

  for (let i = 0; i < PAIRING_ATTEMPTS; i++) expect((await pair(from, wrongCode(), '::ffff:192.0.2.77')).status).toBe(401);
  expect(await pair(from, wrongCode(), '192.0.2.77')).toMatchObject({ status: 429, code: 'rate_limited' });
});

const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });

test('30 concurrent wrong Gotify Basic logins from one address: at most the budget (10) are bcrypt-checked', async () => {
  const from = '127.0.0.21';
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) => request('gateway', 'GET', '/current/user', { from, headers: basic(`wrong password ${i}`) })),
  );
  expect(tally(answers)).toEqual({ 401: TOKEN_FAILURES, 429: 30 - TOKEN_FAILURES });
  const refused = (await auditFor(`ip:${from}`, 'gotify_login_refused')) as { details: { reason: string } }[];
  expect(refused.filter((e) => e.details.reason === 'wrong_password').length).toBeLessThanOrEqual(TOKEN_FAILURES);
});

test('a right Gotify password gives its point back', async () => {
  const from = '127.0.0.22';
  for (let i = 0; i < TOKEN_FAILURES + 2; i++) {
    expect((await request('gateway', 'GET', '/current/user', { from, headers: basic(PASSWORD) })).status).toBe(200);
  }
});

test('15 concurrent wrong dashboard passwords from one address: at most the budget (5) are bcrypt-checked', async () => {
  const from = '127.0.0.31';
  const port = daemon.runtime.adminPort;
  const answers = await Promise.all(
    Array.from({ length: 15 }, (_, i) =>
      request('admin', 'POST', '/dashboard/login', {
        from,
        headers: { ...json, origin: `http://127.0.0.1:${port}` },
        body: JSON.stringify({ password: `wrong password ${i}` }),
      }),
    ),
  );
  expect(tally(answers)).toEqual({ 401: PAIRING_ATTEMPTS, 429: 15 - PAIRING_ATTEMPTS });
  const failed = (await auditFor(`ip:${from}`, 'auth_failed')) as { details: { channel: string } }[];
  expect(failed.filter((e) => e.details.channel === 'dashboard').length).toBeLessThanOrEqual(PAIRING_ATTEMPTS);
});

test('30 concurrent wrong API tokens from one address: at most the budget (10) are looked up', async () => {
  const from = '127.0.0.41';
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      request('gateway', 'POST', '/alerts', { from, headers: { authorization: `Bearer bk_wrong${i}` }, body: 'hello' }),
    ),
  );
  expect(tally(answers)).toEqual({ 401: TOKEN_FAILURES, 429: 30 - TOKEN_FAILURES });
  const refused = (await auditFor(`ip:${from}`, 'api_token_refused')) as unknown[];
  expect(refused.length).toBeLessThanOrEqual(TOKEN_FAILURES);
});
