import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { createToken, HAMMER_LIMITS, send, until, WsReader } from '../../helpers/compat';

// The Gotify Android app's login over the gateway (gotify/server docs/spec.json): HTTP Basic as
// "admin" with the dashboard password → POST /client → a client token, then /current/user,
// /application, /message and /stream with it. Refusals: no password set, wrong password,
// TOTP-protected password, lockout (429), a revoked client.

const PASSWORD = 'gotify login password';
/** Failures per IP before the lockout (compat.tokenFailures): small, so the lockout test is quick. */
const FAILURES = 4;

let daemon: RunningDaemon;
let app: { id: number; token: string };

beforeAll(async () => {
  daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS, compat: { tokenFailures: FAILURES } } });
  app = await createToken(daemon, 'publish', undefined, 'Backup');
});

afterAll(async () => {
  await daemon?.stop();
});

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const gw = (method: string, p: string, headers: Record<string, string> = {}, body?: unknown) =>
  send(method, `${daemon.gatewayUrl}${p}`, body === undefined ? undefined : JSON.stringify(body), { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, daemon.caPem);
const gotifyError = (status: number, beepCode: string) => ({ error: expect.any(String), errorCode: status, errorDescription: expect.any(String), beep_code: beepCode });
const auditEvents = async () => ((await daemon.admin('GET', '/api/v1/audit?limit=500')).body as { event: string; details: Record<string, unknown> }[]);

test('with no dashboard password set, the login is refused with a Gotify 401 naming `beep admin password set`', async () => {
  const res = await gw('POST', '/client', basic('admin', PASSWORD), { name: 'Pixel' });
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ ...gotifyError(401, 'gotify_password_unset'), error: 'Unauthorized' });
  expect(res.body.errorDescription).toContain('beep admin password set');
});

test('the Gotify app login sequence: /current/user and POST /client with Basic, then the client token everywhere', async () => {
  expect((await daemon.cli(['admin', 'password', 'set'], { input: `${PASSWORD}\n` })).status).toBe(0);
  const user = await gw('GET', '/current/user', basic('admin', PASSWORD));
  expect(user.status).toBe(200);
  expect(user.body).toEqual({ id: 1, name: 'admin', admin: true });

  const created = await gw('POST', '/client', basic('admin', PASSWORD), { name: 'Pixel 8' });
  expect(created.status).toBe(200);
  expect(created.body).toEqual({ id: expect.any(Number), token: expect.stringMatching(/^bk_[A-Za-z0-9_-]{43}$/), name: 'Pixel 8' });
  const key = { 'X-Gotify-Key': created.body.token };

  expect((await gw('GET', '/current/user', key)).body).toEqual({ id: 1, name: 'admin', admin: true });
  const apps = await gw('GET', '/application', key);
  expect(apps.status).toBe(200);
  expect(apps.body).toEqual([{ id: app.id, token: '', name: 'Backup', description: 'Beep publish token', internal: false, image: 'icons/icon-192.png', defaultPriority: 5 }]);
  expect(apps.text).not.toContain(app.token);
  const clients = await gw('GET', '/client', key);
  expect(clients.body).toEqual([{ id: created.body.id, token: '', name: 'Pixel 8' }]);

  const stream = await WsReader.open(`wss://localhost:${daemon.runtime.gatewayPort}/stream`, key, daemon.caPem);
  expect(stream.refused).toBeUndefined();
  const posted = await gw('POST', '/message', { 'X-Gotify-Key': app.token }, { title: 'Backup', message: 'done', priority: 8 });
  expect(posted.status).toBe(200);
  await until(() => stream.messages.length === 1, 'the message on /stream');
  expect(stream.messages[0]).toEqual({ id: posted.body.id, appid: app.id, title: 'Backup', message: 'done', priority: 8, date: expect.any(String) });
  stream.close();

  await daemon.admin('POST', '/api/v1/notifications', { title: 'not from the app', body: 'b' });
  const all = await gw('GET', '/message', key);
  expect(all.body.messages.map((m: { title: string }) => m.title)).toEqual(['not from the app', 'Backup']);
  const fromApp = await gw('GET', `/application/${app.id}/message?limit=5`, key);
  expect(fromApp.body).toEqual({ paging: { size: 1, since: posted.body.id, limit: 5 }, messages: [stream.messages[0]] });
  expect((await gw('GET', '/application/9999/message', key)).body).toEqual(gotifyError(404, 'not_found'));

  const events = (await auditEvents()).map((e) => e.event);
  expect(events).toContain('gotify_login');
  expect(events).toContain('gotify_login_refused');
});

test('a scoped client token may read but not mint clients; bad names are refused', async () => {
  const scoped = await createToken(daemon, 'subscribe', ['alerts']);
  expect((await gw('GET', '/current/user', { 'X-Gotify-Key': scoped.token })).status).toBe(200);
  expect((await gw('POST', '/client', { 'X-Gotify-Key': scoped.token }, { name: 'wider' })).body).toEqual(gotifyError(403, 'token_forbidden'));
  expect((await gw('POST', '/client', basic('admin', PASSWORD), { name: '' })).body).toEqual(gotifyError(400, 'validation_failed'));
  expect((await gw('POST', '/client', basic('admin', PASSWORD), { name: 'x', admin: true })).body).toEqual(gotifyError(400, 'unknown_field'));
  expect((await gw('GET', '/application', { 'X-Gotify-Key': app.token })).status).toBe(403);
});

test('a revoked client (DELETE /client/:id, as the app does on logout) stops working at once', async () => {
  const created = (await gw('POST', '/client', basic('admin', PASSWORD), { name: 'Old phone' })).body;
  const key = { 'X-Gotify-Key': created.token };
  const live = await WsReader.open(`wss://localhost:${daemon.runtime.gatewayPort}/stream`, key, daemon.caPem);
  expect(live.refused).toBeUndefined();
  const deleted = await gw('DELETE', `/client/${created.id}`, key);
  expect(deleted.status).toBe(200);
  await until(() => live.closed, 'the stream closed');
  expect((await gw('GET', '/current/user', key)).body).toEqual(gotifyError(401, 'invalid_token'));
  expect((await gw('DELETE', `/client/${created.id}`, basic('admin', PASSWORD))).body).toEqual(gotifyError(404, 'token_not_found'));
});

test('a TOTP-protected password is refused with the reason', async () => {
  expect((await daemon.cli(['admin', 'password', 'set', '--totp'], { input: `${PASSWORD}\n` })).status).toBe(0);
  const res = await gw('POST', '/client', basic('admin', PASSWORD), { name: 'Pixel' });
  expect(res.body).toEqual({ ...gotifyError(403, 'gotify_totp_unsupported'), error: 'Forbidden' });
  expect(res.body.errorDescription).toContain('one-time code');
  expect((await daemon.cli(['admin', 'password', 'set'], { input: `${PASSWORD}\n` })).status).toBe(0);
});

test('a wrong password is a Gotify 401; repeated failures lock the address out (429), the right password too', async () => {
  const wrong = await gw('POST', '/client', basic('admin', 'not the password'), { name: 'Pixel' });
  expect(wrong.status).toBe(401);
  expect(wrong.body).toEqual({ ...gotifyError(401, 'invalid_credentials'), error: 'Unauthorized' });
  expect((await gw('GET', '/current/user', basic('root', PASSWORD))).body).toEqual(gotifyError(401, 'invalid_credentials'));
  const statuses: number[] = [];
  for (let i = 0; i < FAILURES; i++) statuses.push((await gw('GET', '/current/user', basic('admin', `wrong ${i}`))).status);
  expect(statuses).toContain(429);
  const locked = await gw('POST', '/client', basic('admin', PASSWORD), { name: 'Pixel' });
  expect(locked.status).toBe(429);
  expect(locked.body).toEqual(gotifyError(429, 'rate_limited'));
  expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  const refused = (await auditEvents()).filter((e) => e.event === 'gotify_login_refused').map((e) => e.details.reason);
  expect(refused).toEqual(expect.arrayContaining(['no_password', 'totp', 'wrong_password', 'unknown_user']));
});
