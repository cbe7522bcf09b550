import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { createToken, HAMMER_LIMITS, send, until, WsReader } from '../../helpers/compat';

// Gotify's REST API (gotify/server docs/spec.json) against the real daemon: POST /message with
// an application (publish) token in its three forms and three body types, a client (subscribe)
// token on GET /stream (WebSocket) and GET /message paging, /version and /health, the priority
// mapping, and the `beep token` CLI.

let daemon: RunningDaemon;
let app: { id: number; token: string };
let client: { id: number; token: string };

beforeAll(async () => {
  daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS } });
  app = await createToken(daemon, 'publish', undefined, 'Backup');
  client = await createToken(daemon, 'subscribe');
});

afterAll(async () => {
  await daemon?.stop();
});

const admin = (p: string) => `${daemon.adminUrl}${p}`;
const json = { 'content-type': 'application/json' };

function gotifyMessage(fields: Record<string, unknown>) {
  return { id: expect.any(Number), appid: app.id, date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), ...fields };
}

test('POST /message: JSON, form and multipart bodies; X-Gotify-Key, ?token= and Bearer; the answer is the message', async () => {
  const full = await send('POST', admin('/message'), JSON.stringify({
    title: 'Backup', message: '**Backup** was successfully finished.', priority: 8,
    extras: { 'client::notification': { click: { url: 'https://nas.lan/backups' } }, 'client::display': { contentType: 'text/markdown' }, 'home::x': { a: 1 } },
  }), { ...json, 'X-Gotify-Key': app.token });
  expect(full.status).toBe(200);
  expect(full.body).toEqual(gotifyMessage({
    title: 'Backup', message: '**Backup** was successfully finished.', priority: 8,
    extras: { 'client::notification': { click: { url: 'https://nas.lan/backups' } }, 'client::display': { contentType: 'text/markdown' } },
  }));
  const form = await send('POST', admin(`/message?token=${app.token}`), 'title=my+title&message=my+message&priority=5', { 'content-type': 'application/x-www-form-urlencoded' });
  expect(form.body).toEqual(gotifyMessage({ title: 'my title', message: 'my message', priority: 5 }));
  const boundary = 'XyZ';
  const multipart = ['title', 'message', 'priority'].map((k, i) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${['T', 'M\nline 2', '2'][i]}\r\n`).join('') + `--${boundary}--\r\n`;
  const mp = await send('POST', admin('/message'), multipart, { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${app.token}` });
  expect(mp.body).toEqual(gotifyMessage({ title: 'T', message: 'M\nline 2', priority: 2 }));
  const untitled = await send('POST', admin('/message'), JSON.stringify({ message: 'no title' }), { ...json, 'X-Gotify-Key': app.token });
  expect(untitled.body).toEqual(gotifyMessage({ title: 'Backup', message: 'no title', priority: 5 }));
  const ids = [full, form, mp, untitled].map((r) => r.body.id);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
});

test('priority 0-10 comes back as given; Beep stores it as one of five levels (0, 1-3, 4-7, 8-9, 10)', async () => {
  const back: Record<number, number> = {};
  for (const p of [0, 1, 2, 3, 4, 5, 7, 8, 9, 10]) {
    back[p] = (await send('POST', admin('/message'), JSON.stringify({ message: `p${p}`, priority: p }), { ...json, 'X-Gotify-Key': app.token })).body.priority;
  }
  expect(back).toEqual({ 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 7: 7, 8: 8, 9: 9, 10: 10 });
  const beep = (await daemon.admin('GET', '/api/v1/notifications?limit=10')).body.map((n: { priority: number }) => n.priority).reverse();
  expect(beep).toEqual([1, 2, 2, 2, 3, 3, 3, 4, 4, 5]);
});

test('a client token receives new messages over /stream, from Gotify, ntfy and Beep publishers', async () => {
  const stream = await WsReader.open(`wss://localhost:${daemon.runtime.gatewayPort}/stream`, { 'X-Gotify-Key': client.token }, daemon.caPem);
  expect(stream.refused).toBeUndefined();
  const posted = (await send('POST', `${daemon.gatewayUrl}/message`, JSON.stringify({ title: 'LAN', message: 'over TLS', priority: 10 }), { ...json, 'X-Gotify-Key': app.token }, daemon.caPem)).body;
  const ntfy = (await send('POST', admin('/alerts'), 'from ntfy', { authorization: `Bearer ${app.token}`, Click: 'https://x.example/' })).body;
  await daemon.admin('POST', '/api/v1/notifications', { title: 'from beep', body: 'b', priority: 'low' });
  await until(() => stream.messages.length === 3, 'three messages');
  expect(stream.messages[0]).toEqual(posted);
  expect(stream.messages[0]).toEqual(gotifyMessage({ title: 'LAN', message: 'over TLS', priority: 10 }));
  expect(stream.messages[1]).toEqual(gotifyMessage({ title: 'alerts', message: 'from ntfy', priority: 5, extras: { 'client::notification': { click: { url: ntfy.click } } } }));
  expect(stream.messages[2]).toEqual({ id: stream.messages[1].id + 1, appid: 0, title: 'from beep', message: 'b', priority: 2, date: expect.any(String) });
  stream.close();
  const query = await WsReader.open(`ws://127.0.0.1:${daemon.runtime.adminPort}/stream?token=${client.token}`);
  expect(query.refused).toBeUndefined();
  query.close();
});

test('GET /message pages newest first with since and limit, in Gotify\'s paging shape', async () => {
  const auth = { authorization: `Bearer ${client.token}` };
  const first = await send('GET', admin('/message?limit=3'), undefined, auth);
  expect(first.status).toBe(200);
  const ids = first.body.messages.map((m: { id: number }) => m.id);
  expect(ids).toEqual([...ids].sort((a, b) => b - a));
  expect(first.body.paging).toEqual({ size: 3, since: ids[2], limit: 3, next: `http://127.0.0.1:${daemon.runtime.adminPort}/message?limit=3&since=${ids[2]}` });
  const second = await send('GET', admin(`/message?limit=3&since=${ids[2]}`), undefined, auth);
  expect(second.body.messages[0].id).toBe(ids[2] - 1);
  const all = await send('GET', admin('/message'), undefined, auth);
  expect(all.body.paging).toEqual({ size: all.body.messages.length, since: 1, limit: 100 });
  expect((await send('GET', admin('/message?limit=201'), undefined, auth)).body).toEqual({ error: 'Bad Request', errorCode: 400, errorDescription: expect.any(String), beep_code: 'invalid_query' });
});

test('tokens: an application token cannot read, a client token cannot post; revoked is refused at once', async () => {
  const read = await send('GET', admin('/message'), undefined, { 'X-Gotify-Key': app.token });
  expect(read.body).toEqual({ error: 'Forbidden', errorCode: 403, errorDescription: expect.any(String), beep_code: 'token_forbidden' });
  const stream = await WsReader.open(`ws://127.0.0.1:${daemon.runtime.adminPort}/stream`, { 'X-Gotify-Key': app.token });
  expect(stream.refused?.status).toBe(403);
  const post = await send('POST', admin('/message'), JSON.stringify({ message: 'x' }), { ...json, 'X-Gotify-Key': client.token });
  expect(post.status).toBe(403);
  expect((await send('POST', admin('/message'), JSON.stringify({ title: 'no message' }), { ...json, 'X-Gotify-Key': app.token })).body.beep_code).toBe('validation_failed');
  const doomed = await createToken(daemon, 'subscribe');
  const live = await WsReader.open(`ws://127.0.0.1:${daemon.runtime.adminPort}/stream`, { 'X-Gotify-Key': doomed.token });
  expect(live.refused).toBeUndefined();
  await daemon.admin('DELETE', `/api/v1/tokens/${doomed.id}`);
  await until(() => live.closed, 'the stream closed');
  expect((await send('GET', admin('/message'), undefined, { 'X-Gotify-Key': doomed.token })).status).toBe(401);
});

test('/version on both listeners; Gotify /health on the gateway, Beep\'s /health on admin', async () => {
  expect((await send('GET', admin('/version'))).body).toEqual({ version: daemon.runtime.version, commit: '', buildDate: '' });
  expect((await send('GET', `${daemon.gatewayUrl}/health`, undefined, {}, daemon.caPem)).body).toEqual({ health: 'green', database: 'green' });
  expect((await send('GET', admin('/health'))).body).toEqual({ status: 'ok', uptime: expect.any(Number) });
});

test('beep token create, list and revoke', () => {
  const beep = (...args: string[]) =>
    spawnSync(process.execPath, [path.resolve(__dirname, '../../../dist/app/main.js'), ...args], { env: { PATH: process.env.PATH, BEEP_HOME: daemon.dataDir }, encoding: 'utf8' });
  const created = beep('token', 'create', '--publish', '--topics', 'a,b', '--name', 'cron');
  expect(created.status).toBe(0);
  expect(created.stdout.trim()).toMatch(/^bk_[A-Za-z0-9_-]{43}$/);
  const listed = JSON.parse(beep('token', 'list', '--json').stdout);
  const mine = listed.find((t: { name: string }) => t.name === 'cron');
  expect(mine).toEqual({ id: expect.any(Number), kind: 'publish', name: 'cron', topics: ['a', 'b'], createdAt: expect.any(String), lastUsedAt: null });
  expect(JSON.stringify(listed)).not.toContain(created.stdout.trim());
  expect(beep('token', 'create', '--publish', '--subscribe').status).toBe(2);
  expect(beep('token', 'revoke', String(mine.id)).status).toBe(0);
  expect(beep('token', 'revoke', String(mine.id)).stderr).toContain('token_not_found');
});
