import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pemFingerprint } from '../../app/cli/https-json';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone, type Credentials } from '../helpers/phone';

// Pairing codes (admin), the code exchange and token rotation (gateway), the CA download and
// the socket's token rules, against the real daemon. Codes here live 1 s so expiry is testable.

let daemon: RunningDaemon;
const phones: Phone[] = [];

beforeAll(async () => {
  daemon = await startDaemon({ config: { auth: { pairingCodeTtlSec: 1 } } });
});

afterAll(async () => {
  for (const phone of phones) phone.disconnect();
  await daemon?.stop();
});

function expectError(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(typeof res.body.error.message).toBe('string');
}

async function newCode(on: RunningDaemon = daemon): Promise<string> {
  const res = await on.admin('POST', '/api/v1/pairings');
  expect(res.status).toBe(201);
  return res.body.code;
}

async function pairWith(code: string, on: RunningDaemon = daemon, body: Record<string, unknown> = {}) {
  return on.gateway<any>('POST', '/api/v1/pair', { code, name: 'test phone', platform: 'test', ...body });
}

/** A fresh code exchanged at once (codes live 1 s in this file). */
async function pairNow(): Promise<Credentials> {
  const res = await pairWith(await newCode());
  expect(res.status).toBe(201);
  return res.body;
}

function newPhone(credentials: Credentials): Phone {
  const phone = new Phone(credentials);
  phones.push(phone);
  return phone;
}

async function connectError(phone: Phone, token?: string, extra: Record<string, unknown> = {}): Promise<string | undefined> {
  try {
    await phone.connect(daemon, token, extra);
  } catch (error) {
    return (error as { code?: string }).code;
  }
  phone.disconnect();
  throw new Error('the socket connected but should have been refused');
}

/** A gateway request that keeps the response headers (httpsJson drops them). */
function gatewayWithHeaders(on: RunningDaemon, method: string, urlPath: string, body: unknown) {
  const payload = JSON.stringify(body);
  return new Promise<{ status: number; body: any; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    const req = https.request(
      `${on.gatewayUrl}${urlPath}`,
      { method, ca: on.caPem, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('POST /api/v1/pairings (admin)', () => {
  test('201 {code, expiresAt, url, qrSvg}; the url fragment carries the code and the CA fingerprint', async () => {
    const before = Date.now();
    const res = await daemon.admin('POST', '/api/v1/pairings');
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'expiresAt', 'historyHours', 'qrSvg', 'url']);
    const { code, expiresAt, url, qrSvg } = res.body;
    expect(code).toMatch(/^\d{8}$/);
    expect(new Date(expiresAt).toISOString()).toBe(expiresAt);
    const ttl = Date.parse(expiresAt) - before;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000 + 1000);
    expect(qrSvg.startsWith('<svg') || qrSvg.startsWith('<?xml')).toBe(true);
    expect(qrSvg).toContain('</svg>');

    const parsed = new URL(url);
    expect(parsed.protocol).toBe('https:');
    expect(parsed.port).toBe(String(daemon.runtime.gatewayPort));
    expect(parsed.search).toBe('');
    const fragment = new URLSearchParams(parsed.hash.slice(1));
    expect(fragment.get('code')).toBe(code);
    expect(fragment.get('fp')).toBe(daemon.runtime.caFingerprint);
    expect(daemon.runtime.caFingerprint).toMatch(/^sha256\/[0-9a-f]{64}$/);
  });

  test('two codes differ; without the admin token → 401', async () => {
    expect(await newCode()).not.toBe(await newCode());
    expectError(await daemon.admin('POST', '/api/v1/pairings', undefined, { authorization: '' }), 401, 'unauthenticated');
  });
});

describe('POST /api/v1/pair (gateway)', () => {
  test('a fresh code → 201 credentials that open a socket; the same code again → 401 pairing_code_invalid', async () => {
    const code = await newCode();
    const res = await pairWith(code);
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['accessExpiresIn', 'accessToken', 'deviceId', 'history', 'nodes', 'refreshToken']);
    expect(res.body.deviceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof res.body.accessToken).toBe('string');
    expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{20,200}$/);
    expect(res.body.accessExpiresIn).toBeGreaterThan(0);

    const phone = newPhone(res.body);
    await phone.connect(daemon);
    phone.disconnect();

    const devices = await daemon.admin('GET', '/api/v1/devices');
    expect(devices.body.map((d: any) => d.id)).toContain(res.body.deviceId);

    expectError(await pairWith(code), 401, 'pairing_code_invalid');
  });

  test('a wrong code → 401 pairing_code_invalid', async () => {
    const code = await newCode();
    const wrong = String((Number(code) + 1) % 1e8).padStart(8, '0');
    expectError(await pairWith(wrong), 401, 'pairing_code_invalid');
  });

  test('malformed bodies → stable 4xx codes', async () => {
    const code = await newCode();
    const noName = await daemon.gateway<any>('POST', '/api/v1/pair', { code, platform: 'test' });
    expectError(noName, 400, 'validation_failed');
    const emptyName = await daemon.gateway<any>('POST', '/api/v1/pair', { code, name: '  ', platform: 'test' });
    expectError(emptyName, 400, 'validation_failed');
    expectError(await pairWith(code, daemon, { admin: true }), 400, 'unknown_field');
    // A malformed code is as wrong as a bad one: no oracle.
    expectError(await pairWith('abc'), 401, 'pairing_code_invalid');
    expectError(await pairWith('1234567'), 401, 'pairing_code_invalid');
    const noCode = await daemon.gateway<any>('POST', '/api/v1/pair', { name: 'x', platform: 'test' });
    expectError(noCode, 401, 'pairing_code_invalid');
    const array = await daemon.gateway<any>('POST', '/api/v1/pair', [code]);
    expect(array.status).toBe(400);
    expect(array.body.error.code).toBe('validation_failed');
  });

  test('an expired code → 401 pairing_code_invalid', async () => {
    const code = await newCode();
    await new Promise((r) => setTimeout(r, 1500));
    expectError(await pairWith(code), 401, 'pairing_code_invalid');
  });
});

describe('POST /api/v1/token (gateway)', () => {
  test('rotation, and reuse of an old refresh token signs the whole device out', async () => {
    const first = await pairNow();

    const rotated = await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: first.refreshToken });
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body).sort()).toEqual(['accessExpiresIn', 'accessToken', 'nodes', 'refreshToken']);
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    expect(rotated.body.accessExpiresIn).toBeGreaterThan(0);

    const phone = newPhone({ ...first, ...rotated.body });
    await phone.connect(daemon, rotated.body.accessToken);
    phone.disconnect();

    // The newest token rotates once more: it was alive until now.
    const again = await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: rotated.body.refreshToken });
    expect(again.status).toBe(200);
    const newest = again.body as { accessToken: string; refreshToken: string };

    // The first token was used already: reuse → the family dies.
    expectError(await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: first.refreshToken }), 401, 'refresh_token_reused');
    expectError(await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: newest.refreshToken }), 401, 'refresh_token_reused');

    // And every access token of the device is dead.
    expect(await connectError(phone, newest.accessToken)).toBe('invalid_token');
    expect(await connectError(phone, first.accessToken)).toBe('invalid_token');
  });

  test('an unknown or malformed refresh token → 401 refresh_token_invalid', async () => {
    expectError(await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: 'A'.repeat(43) }), 401, 'refresh_token_invalid');
    expectError(await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: 'short' }), 401, 'refresh_token_invalid');
    expectError(await daemon.gateway<any>('POST', '/api/v1/token', {}), 401, 'refresh_token_invalid');
    expectError(await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: 'A'.repeat(43), extra: 1 }), 400, 'unknown_field');
  });
});

describe('GET /ca.crt', () => {
  test('returns the PEM whose fingerprint daemon.json names', async () => {
    const res = await daemon.gateway<string>('GET', '/ca.crt');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^-----BEGIN CERTIFICATE-----\r?\n/);
    const runtime = JSON.parse(fs.readFileSync(path.join(daemon.dataDir, 'daemon.json'), 'utf8'));
    expect(pemFingerprint(res.text)).toBe(runtime.caFingerprint);
    expect(res.text).not.toMatch(/PRIVATE KEY/);
  });
});

describe('socket authentication', () => {
  let credentials: Credentials;

  beforeAll(async () => {
    credentials = await pairNow();
  });

  test('a valid token in auth connects', async () => {
    const phone = newPhone(credentials);
    await phone.connect(daemon);
    expect(phone.socket?.connected).toBe(true);
    phone.disconnect();
  });

  test('no token → unauthenticated', async () => {
    expect(await connectError(newPhone(credentials), undefined, { auth: {} })).toBe('unauthenticated');
  });

  test('a garbage token → invalid_token', async () => {
    expect(await connectError(newPhone(credentials), 'garbage')).toBe('invalid_token');
    expect(await connectError(newPhone(credentials), 'a.b.c')).toBe('invalid_token');
  });

  test('a token in the query string → token_in_query, even a valid one', async () => {
    const token = credentials.accessToken;
    expect(await connectError(newPhone(credentials), token, { query: { token } })).toBe('token_in_query');
  });
});

describe('failed-attempt lockout (separate daemon)', () => {
  let locked: RunningDaemon;
  const WINDOW_SEC = 4;

  beforeAll(async () => {
    locked = await startDaemon({ config: { rateLimits: { pairingAttempts: 5, pairingWindowSec: WINDOW_SEC } } });
  });

  afterAll(async () => {
    await locked?.stop();
  });

  test('after 5 failures → 429 rate_limited with Retry-After, even for a valid code, which survives the block', async () => {
    const valid = await newCode(locked);
    const wrong = String((Number(valid) + 1) % 1e8).padStart(8, '0');
    for (let i = 0; i < 5; i++) {
      const res = await pairWith(wrong, locked);
      expectError(res, 401, 'pairing_code_invalid');
    }
    const blocked = await gatewayWithHeaders(locked, 'POST', '/api/v1/pair', { code: wrong, name: 'x', platform: 'test' });
    expectError(blocked, 429, 'rate_limited');
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SEC);

    const validWhileBlocked = await gatewayWithHeaders(locked, 'POST', '/api/v1/pair', { code: valid, name: 'x', platform: 'test' });
    expectError(validWhileBlocked, 429, 'rate_limited');
    expect(validWhileBlocked.headers['retry-after']).toBeDefined();

    // The refused attempt did not burn the code: once the block ends it still pairs.
    await new Promise((r) => setTimeout(r, (retryAfter + 0.5) * 1000));
    const after = await pairWith(valid, locked);
    expect(after.status).toBe(201);
  });
});

describe('topic filters name no reserved route', () => {
  test('at pairing and in the socket `topics` event, a reserved name is refused as it is by the admin call', async () => {
    const refused = await pairWith(await newCode(), daemon, { topics: ['alerts', 'api'] });
    expect([refused.status, refused.body.error.code]).toEqual([400, 'reserved_topic']);
    const phone = new Phone(await pairNow());
    await phone.connect(daemon);
    const reply = await new Promise((resolve) => phone.socket!.emit('topics', { topics: ['health'] }, resolve));
    expect(reply).toMatchObject({ error: { code: 'reserved_topic' } });
    const ok = await new Promise((resolve) => phone.socket!.emit('topics', { topics: ['alerts'] }, resolve));
    expect(ok).toEqual({ ok: true, topics: ['alerts'] });
    phone.disconnect();
  });
});
