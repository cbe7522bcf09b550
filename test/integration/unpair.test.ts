import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';
import { httpsJson } from '../../app/cli/https-json';

// POST /api/v1/unpair (a protocol extension): a phone revokes its own device with its access
// token, exactly as the admin's DELETE /api/v1/devices/:id would.

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

function unpair(authorization?: string) {
  return httpsJson<any>(`${daemon.gatewayUrl}/api/v1/unpair`, {
    method: 'POST',
    ca: daemon.caPem,
    headers: authorization === undefined ? {} : { authorization },
  });
}

test('revokes the calling device: its socket gets `revoked`, its tokens die, other devices stay', async () => {
  const phone = await Phone.paired(daemon, 'leaving');
  const other = await Phone.paired(daemon, 'staying');
  await phone.connect(daemon);
  const res = await unpair(`Bearer ${phone.credentials.accessToken}`);
  expect(res.status).toBe(204);
  await phone.waitFor(() => phone.revoked && phone.disconnectReason !== undefined, 5_000, 'revoked and disconnected');
  const listed = (await daemon.admin('GET', '/api/v1/devices')).body.map((d: { name: string }) => d.name);
  expect(listed).toEqual(['staying']);
  expect((await unpair(`Bearer ${phone.credentials.accessToken}`)).body.error.code).toBe('device_revoked');
  const refresh = await daemon.gateway('POST', '/api/v1/token', { refreshToken: phone.credentials.refreshToken });
  expect(refresh.status).toBe(401);
  await other.connect(daemon);
  other.disconnect();
});

test.each([
  ['no Authorization header', 'unauthenticated', undefined],
  ['another scheme', 'unauthenticated', 'Basic dXNlcjpwYXNz'],
  ['a forged token', 'invalid_token', 'Bearer eyJhbGciOiJub25lIn0.e30.'],
])('refuses %s with 401 %s', async (_what, code, header) => {
  const res = await unpair(header);
  expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 401, code });
});
