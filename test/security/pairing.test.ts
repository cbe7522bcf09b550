import crypto from 'node:crypto';
import { httpRequest, rawRequest } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// Attacks on pairing: guessing codes (per-IP lockout, per-code lockout across IPs), replaying a
// used code, using an expired one. Codes live 1 s here; one trusted proxy hop lets the test
// speak as several LAN hosts through X-Forwarded-For.

let daemon: RunningDaemon;
const tried: string[] = [];

beforeAll(async () => {
  daemon = await startDaemon({ config: { auth: { pairingCodeTtlSec: 1 }, gateway: { trustProxyHops: 1 } }, env: { BEEP_LOG_LEVEL: 'debug' } });
});

afterAll(async () => {
  await daemon?.stop();
});

async function pairFrom(ip: string, code: string) {
  const body = JSON.stringify({ code, name: 'guess', platform: 'test' });
  const res = await rawRequest(
    daemon.runtime.gatewayPort,
    httpRequest('POST', '/api/v1/pair', { Host: `localhost:${daemon.runtime.gatewayPort}`, 'Content-Type': 'application/json', 'X-Forwarded-For': ip }, body),
    { ca: daemon.caPem },
  );
  return { status: res.status, code: JSON.parse(res.body).error?.code as string | undefined, retryAfter: res.headers['retry-after'] };
}

function wrongCode(): string {
  const code = crypto.randomInt(0, 1e8).toString().padStart(8, '0');
  tried.push(code);
  return code;
}

async function newCode(): Promise<string> {
  const res = await daemon.admin('POST', '/api/v1/pairings');
  tried.push(res.body.code);
  return res.body.code;
}

test('a used code is refused the second time', async () => {
  const code = await newCode();
  expect((await pairFrom('192.0.2.10', code)).status).toBe(201);
  expect(await pairFrom('192.0.2.10', code)).toMatchObject({ status: 401, code: 'pairing_code_invalid' });
});

test('an expired code is refused', async () => {
  const code = await newCode();
  await new Promise((r) => setTimeout(r, 1500));
  expect(await pairFrom('192.0.2.11', code)).toMatchObject({ status: 401, code: 'pairing_code_invalid' });
});

test('10 wrong codes from one IP: 5 refused as wrong, then locked out (429, Retry-After), even for a right code; audited', async () => {
  const results = [];
  for (let i = 0; i < 10; i++) results.push(await pairFrom('192.0.2.66', wrongCode()));
  expect(results.slice(0, 5).map((r) => r.code)).toEqual(Array(5).fill('pairing_code_invalid'));
  expect(results.slice(5).map((r) => r.status)).toEqual(Array(5).fill(429));
  expect(Number(results[9].retryAfter)).toBeGreaterThan(0);
  expect(await pairFrom('192.0.2.66', await newCode())).toMatchObject({ status: 429, code: 'rate_limited' });
  // Another host on the LAN is unaffected.
  expect((await pairFrom('192.0.2.67', await newCode())).status).toBe(201);

  const audit = (await daemon.admin('GET', '/api/v1/audit?limit=100')).body as { event: string; actor: string; details: unknown }[];
  const mine = audit.filter((e) => e.actor === 'ip:192.0.2.66');
  const failed = mine.filter((e) => e.event === 'pairing_failed'); // one entry per 10-minute window, counted
  expect(failed.reduce((n, e) => n + (e.details as { count: number }).count, 0)).toBe(5);
  expect(failed.length).toBeLessThanOrEqual(2); // 2 only if a window boundary fell inside the burst
  expect(mine.filter((e) => e.event === 'pairing_locked_out')).toHaveLength(1);
});

test('one code value guessed from many IPs is locked out per code', async () => {
  const code = wrongCode();
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await pairFrom(`192.0.2.${100 + i}`, code));
  expect(results.slice(0, 5).map((r) => r.status)).toEqual(Array(5).fill(401));
  expect(results[5]).toMatchObject({ status: 429, code: 'rate_limited' });
});

test('no code tried or issued appears in the logs (debug level included) or in the audit log', async () => {
  const logs = daemon.logs();
  expect(logs).toMatch(/failed pairing attempt/); // the attempts were logged...
  const audit = (await daemon.admin('GET', '/api/v1/audit?limit=500')).text;
  for (const code of tried) {
    expect(logs).not.toContain(code); // ...without the code
    expect(audit).not.toContain(code);
  }
});
