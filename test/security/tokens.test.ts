import { forgeJwt, signingKeyOf } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// Attacks on device tokens, each through a real socket.io handshake: the daemon must refuse
// every forged, stale, misdirected or misplaced token with the right code.

let daemon: RunningDaemon;
let phone: Phone;
let key: ReturnType<typeof signingKeyOf>;
const sockets: Phone[] = [];

beforeAll(async () => {
  daemon = await startDaemon();
  phone = await Phone.paired(daemon, 'token target');
  key = signingKeyOf(daemon.dataDir);
});

afterAll(async () => {
  for (const p of sockets) p.disconnect();
  await daemon?.stop();
});

/** The code the handshake was refused with (fails the test if it connected). */
async function refusedWith(token: unknown, extra: Record<string, unknown> = {}): Promise<string | undefined> {
  const p = new Phone(phone.credentials);
  sockets.push(p);
  try {
    await p.connect(daemon, token as string, extra);
  } catch (error) {
    return (error as { code?: string }).code;
  }
  p.disconnect();
  throw new Error('the socket connected with a token that should have been refused');
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { typ: 'access', gen: 1, sub: phone.credentials.deviceId, aud: 'beep:device', iat: now, exp: now + 600, ...overrides };
}

const es256 = (payload: Record<string, unknown>) => forgeJwt({ alg: 'ES256', typ: 'JWT', kid: key.kid }, payload, { es256: key.privatePem });

test('control: a correctly signed token is accepted (so each refusal below is the attack\'s doing)', async () => {
  const p = new Phone(phone.credentials);
  sockets.push(p);
  await p.connect(daemon, es256(claims()));
  p.disconnect();
});

test('alg "none" → invalid_token', async () => {
  expect(await refusedWith(forgeJwt({ alg: 'none', typ: 'JWT', kid: key.kid }, claims()))).toBe('invalid_token');
});

test('HS256 signed with the public key as the HMAC secret → invalid_token', async () => {
  const token = forgeJwt({ alg: 'HS256', typ: 'JWT', kid: key.kid }, claims(), { hs256: key.publicPem });
  expect(await refusedWith(token)).toBe('invalid_token');
});

test('no exp → invalid_token; expired → token_expired', async () => {
  const { exp: _exp, ...noExp } = claims();
  expect(await refusedWith(es256(noExp))).toBe('invalid_token');
  const past = Math.floor(Date.now() / 1000) - 3600;
  expect(await refusedWith(es256(claims({ iat: past - 900, exp: past })))).toBe('token_expired');
});

test('wrong aud → invalid_token; wrong typ → invalid_token; an unknown kid → invalid_token', async () => {
  expect(await refusedWith(es256(claims({ aud: 'beep:admin' })))).toBe('invalid_token');
  expect(await refusedWith(es256(claims({ typ: 'refresh' })))).toBe('invalid_token');
  expect(await refusedWith(forgeJwt({ alg: 'ES256', typ: 'JWT', kid: 'AAAAAAAAAAAAAAAA' }, claims(), { es256: key.privatePem }))).toBe('invalid_token');
});

test('the refresh token presented as an access token → refused', async () => {
  expect(['invalid_token', 'unauthenticated']).toContain(await refusedWith(phone.credentials.refreshToken));
});

test('a token in the query string → token_in_query, even when it is valid', async () => {
  expect(await refusedWith(phone.credentials.accessToken, { query: { token: phone.credentials.accessToken } })).toBe('token_in_query');
});

test('refresh-token reuse revokes the whole family and is audited', async () => {
  const victim = await Phone.paired(daemon, 'reuse victim');
  const first = victim.credentials.refreshToken;
  const rotated = await daemon.gateway('POST', '/api/v1/token', { refreshToken: first });
  expect(rotated.status).toBe(200);
  // The thief replays the old one: refused, and the legitimate newer token dies with it.
  const replay = await daemon.gateway('POST', '/api/v1/token', { refreshToken: first });
  expect({ status: replay.status, code: replay.body.error.code }).toEqual({ status: 401, code: 'refresh_token_reused' });
  const legit = await daemon.gateway('POST', '/api/v1/token', { refreshToken: rotated.body.refreshToken });
  expect(legit.status).toBe(401);
  // Access tokens issued before (the generation was bumped) die too.
  const p = new Phone(victim.credentials);
  sockets.push(p);
  await expect(p.connect(daemon, rotated.body.accessToken)).rejects.toMatchObject({ code: 'invalid_token' });
  const audit = await daemon.admin('GET', '/api/v1/audit?limit=50');
  expect(audit.body).toEqual(
    expect.arrayContaining([expect.objectContaining({ event: 'refresh_token_reused', details: expect.objectContaining({ deviceId: victim.credentials.deviceId }) })]),
  );
});

test('a revoked device\'s still-unexpired token → device_revoked, and its live socket closes within 1 s', async () => {
  const doomed = await Phone.paired(daemon, 'doomed');
  sockets.push(doomed);
  await doomed.connect(daemon);
  expect((await daemon.admin('DELETE', `/api/v1/devices/${doomed.credentials.deviceId}`)).status).toBe(204);
  await doomed.waitFor(() => doomed.disconnectReason !== undefined, 1000, 'socket closed');
  expect(await refusedWith(doomed.credentials.accessToken)).toBe('device_revoked');
  const audit = await daemon.admin('GET', '/api/v1/audit?limit=50');
  expect(audit.body.map((e: { event: string }) => e.event)).toContain('device_revoked');
});
