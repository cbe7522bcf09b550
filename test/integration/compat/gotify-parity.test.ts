import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, HttpStream, send, until, WsReader } from '../../helpers/compat';
import { answerTo, RealClients, valueOf } from '../../helpers/real-clients';
import type { WireNotification } from '../../../app/domain/notification';

// Issue 13, the Gotify part: exact priorities, deletes, applications, plugins and error shapes,
// driven with the real `gotify` and `gotify-client` packages (test/helpers/real-clients.ts) and
// with raw requests as Gotify's docs show them, asserting what a paired phone receives and what
// the clients read back.

const PASSWORD = 'gotify parity password';

let daemon: RunningDaemon;
let clients: RealClients;
let phone: Phone;
let gw: string;
let app: { id: number; token: string };
let client: { id: number; token: string };
/** Ids the phone dismissed itself. */
const dismissedHere = new Set<string>();

beforeAll(async () => {
  daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS } });
  clients = RealClients.for(daemon);
  gw = daemon.gatewayUrl;
  app = await createToken(daemon, 'publish', ['backups'], 'backup-job');
  client = await createToken(daemon, 'subscribe', undefined, 'desk');
  phone = await Phone.paired(daemon, 'gotify phone');
  await phone.connect(daemon);
  expect((await daemon.cli(['admin', 'password', 'set'], { input: `${PASSWORD}\n` })).status).toBe(0);
});

afterAll(async () => {
  phone?.disconnect();
  await daemon?.stop();
});

function onPhone(body: string, timeoutMs?: number): Promise<WireNotification> {
  return phone.withBody(body, timeoutMs);
}

const json = { 'content-type': 'application/json' };
const basic = () => ({ authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` });
/** A raw request to the gateway, as Gotify's docs show it (curl). */
const gotifyRequest = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
  send(method, `${gw}${path}`, body === undefined ? undefined : JSON.stringify(body), { ...(body === undefined ? {} : json), ...headers }, daemon.caPem);
const gotifyError = (status: number, beepCode: string) => ({ error: expect.any(String), errorCode: status, errorDescription: expect.any(String), beep_code: beepCode });

/** A client token made through the Gotify app's Basic login (it may manage clients and applications). */
async function loginClient(name = 'Gotify app'): Promise<{ id: number; token: string }> {
  const login = await gotifyRequest('POST', '/client', basic(), { name });
  expect(login.status).toBe(200);
  return { id: login.body.id, token: login.body.token };
}

/** Everything an ntfy poll reads on a topic. */
async function polled(topic: string): Promise<any[]> {
  const reader = (await createToken(daemon, 'subscribe', [topic])).token;
  const stream = await HttpStream.open(`${gw}/${topic}/json?poll=1&since=all`, { authorization: `Bearer ${reader}` }, daemon.caPem);
  await until(() => stream.ended, 'the poll to end', 15_000);
  return stream.json;
}

describe('exact priorities', () => {
  test('priority 7 comes back as 7 from gotify, createMessage and getMessages; the phone gets Beep\'s 3', async () => {
    const viaGotify = valueOf(await clients.gotify({ server: gw, app: app.token, message: 'seven (gotify)', priority: 7 }));
    expect(viaGotify.priority).toBe(7);
    const created = valueOf(await clients.gotifyClient(gw, { app: app.token }, 'message', 'createMessage', { message: 'seven (gotify-client)', priority: 7 }));
    expect(created.priority).toBe(7);
    const listed = valueOf(await clients.gotifyClient(gw, { client: client.token }, 'message', 'getMessages', { limit: 10 }));
    expect(listed.messages.filter((m) => m.message.startsWith('seven')).map((m) => m.priority)).toEqual([7, 7]);
    expect((await onPhone('seven (gotify)')).priority).toBe(3);
    expect((await onPhone('seven (gotify-client)')).priority).toBe(3);
  });

  test('any integer (negative, above 10, large) is kept for Gotify routes; Beep\'s level drives the phone and ntfy subscribers', async () => {
    const stream = await WsReader.open(`wss://localhost:${daemon.runtime.gatewayPort}/stream`, { 'X-Gotify-Key': client.token }, daemon.caPem);
    expect(stream.refused).toBeUndefined();
    const given = [-3, 1, 4, 6, 9, 11, 123_456_789_012];
    const expectedBeep = [1, 2, 3, 3, 4, 5, 5];
    const answers: any[] = [];
    for (const p of given) {
      // JSON, then a form body (the priority as text), as Gotify's docs show both.
      const body = p % 2 === 0 ? JSON.stringify({ message: `given ${p}`, priority: p }) : `message=given+${p}&priority=${p}`;
      const type = p % 2 === 0 ? 'application/json' : 'application/x-www-form-urlencoded';
      const res = await send('POST', `${gw}/message?token=${app.token}`, body, { 'content-type': type }, daemon.caPem);
      expect(res.status).toBe(200);
      answers.push(res.body);
    }
    expect(answers.map((a) => a.priority)).toEqual(given);
    await until(() => stream.messages.filter((m: any) => m.message.startsWith('given ')).length === given.length, 'the stream');
    expect(stream.messages.filter((m: any) => m.message.startsWith('given ')).map((m: any) => m.priority)).toEqual(given);
    stream.close();
    const page = await gotifyRequest('GET', `/application/${app.id}/message?limit=${given.length}`, { 'X-Gotify-Key': client.token });
    expect(page.body.messages.map((m: any) => m.priority).reverse()).toEqual(given);
    for (const [i, p] of given.entries()) expect((await onPhone(`given ${p}`)).priority).toBe(expectedBeep[i]);
    const ntfy = (await polled('backups')).filter((m) => typeof m.message === 'string' && m.message.startsWith('given '));
    expect(ntfy.map((m) => m.priority ?? 3)).toEqual(expectedBeep);
    // Beep's own history (the admin API) shows Beep's levels too.
    const beep = (await daemon.admin('GET', `/api/v1/notifications?limit=${given.length}`)).body.map((n: { priority: number }) => n.priority).reverse();
    expect(beep).toEqual(expectedBeep);
  });

  test('a priority that is not an integer, or beyond what a number holds exactly, is a 400 in Gotify\'s shape', async () => {
    for (const priority of [7.5, '7x', 2 ** 60]) {
      const res = await gotifyRequest('POST', '/message', { 'X-Gotify-Key': app.token }, { message: 'bad priority', priority });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(gotifyError(400, 'invalid_priority'));
    }
  });
});

describe('deletes', () => {
  test('deleteMessage(id): 200, gone from getMessages, dismissed on the phone', async () => {
    const created = valueOf(await clients.gotifyClient(gw, { app: app.token }, 'message', 'createMessage', { message: 'swipe me away' }));
    const shown = await onPhone('swipe me away');
    const run = await clients.gotifyClient(gw, { client: client.token }, 'message', 'deleteMessage', created.id);
    expect(answerTo(run, 'DELETE', `/message/${created.id}`)?.status).toBe(200);
    const listed = valueOf(await clients.gotifyClient(gw, { client: client.token }, 'message', 'getMessages', { limit: 200 }));
    expect(listed.messages.map((m) => m.id)).not.toContain(created.id);
    const ofApp = valueOf(await clients.gotifyClient(gw, { client: client.token }, 'application', 'getAppMessages', { id: app.id, limit: 200 }));
    expect(ofApp.messages.map((m) => m.id)).not.toContain(created.id);
    await phone.waitFor(() => phone.dismissed.includes(shown.id), 15_000, 'the dismissal');
    // Deleting it again: Gotify's 404, in Gotify's shape.
    const again = await gotifyRequest('DELETE', `/message/${created.id}`, { 'X-Gotify-Key': client.token });
    expect(again.status).toBe(404);
    expect(again.body).toEqual(gotifyError(404, 'not_found'));
  });

  test('a message dismissed on a phone leaves Gotify\'s lists too', async () => {
    const created = (await gotifyRequest('POST', '/message', { 'X-Gotify-Key': app.token }, { message: 'dismissed on the phone' })).body;
    const shown = await onPhone('dismissed on the phone');
    await new Promise<void>((resolve) => phone.socket!.emit('dismiss', { id: shown.id }, () => resolve()));
    dismissedHere.add(shown.id);
    const listed = (await gotifyRequest('GET', '/message?limit=200', { 'X-Gotify-Key': client.token })).body.messages;
    expect(listed.map((m: any) => m.id)).not.toContain(created.id);
  });

  test('deleteAppMessages(appId): that application\'s messages are dismissed, the others stay', async () => {
    const other = await createToken(daemon, 'publish', ['others'], 'other-app');
    valueOf(await clients.gotifyClient(gw, { app: app.token }, 'message', 'createMessage', { message: 'app one' }));
    valueOf(await clients.gotifyClient(gw, { app: other.token }, 'message', 'createMessage', { message: 'app two' }));
    const one = await onPhone('app one');
    const run = await clients.gotifyClient(gw, { client: client.token }, 'application', 'deleteAppMessages', app.id);
    expect(answerTo(run, 'DELETE', `/application/${app.id}/message`)?.status).toBe(200);
    const left = valueOf(await clients.gotifyClient(gw, { client: client.token }, 'message', 'getMessages', { limit: 200 }));
    expect(left.messages.some((m) => m.appid === app.id)).toBe(false);
    expect(left.messages.map((m) => m.message)).toContain('app two');
    await phone.waitFor(() => phone.dismissed.includes(one.id), 15_000, 'the dismissal');
    expect(phone.dismissed).not.toContain((await onPhone('app two')).id);
    const unknown = await gotifyRequest('DELETE', '/application/99999/message', { 'X-Gotify-Key': client.token });
    expect(unknown.body).toEqual(gotifyError(404, 'not_found'));
  });

  test('a topic-scoped client deletes only within its topics: another topic\'s message is a 404 and stays', async () => {
    const scoped = await createToken(daemon, 'subscribe', ['backups'], 'backups reader');
    const elsewhere = await createToken(daemon, 'publish', ['private'], 'private-app');
    const theirs = (await gotifyRequest('POST', '/message', { 'X-Gotify-Key': elsewhere.token }, { message: 'not yours to delete' })).body;
    const mine = (await gotifyRequest('POST', '/message', { 'X-Gotify-Key': app.token }, { message: 'yours to delete' })).body;
    const theirsShown = await onPhone('not yours to delete');
    const mineShown = await onPhone('yours to delete');

    // The attack: a scoped client deletes another topic's message by id, and everything.
    const refused = await gotifyRequest('DELETE', `/message/${theirs.id}`, { 'X-Gotify-Key': scoped.token });
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual(gotifyError(404, 'not_found'));
    const appWide = await gotifyRequest('DELETE', `/application/${elsewhere.id}/message`, { 'X-Gotify-Key': scoped.token });
    expect(appWide.status).toBe(200);
    const all = await gotifyRequest('DELETE', '/message', { 'X-Gotify-Key': scoped.token });
    expect(all.status).toBe(200);
    // Its own topic's message went; the sentinel (that dismissal) arrived, the other did not.
    await phone.waitFor(() => phone.dismissed.includes(mineShown.id), 15_000, 'the scoped dismissal');
    expect(phone.dismissed).not.toContain(theirsShown.id);
    const listed = (await gotifyRequest('GET', '/message?limit=200', { 'X-Gotify-Key': client.token })).body.messages.map((m: any) => m.id);
    expect(listed).toContain(theirs.id);
    expect(listed).not.toContain(mine.id);
  });

  test('deleteMessages(): 200, getMessages is empty, every one dismissed on the phone', async () => {
    valueOf(await clients.gotifyClient(gw, { app: app.token }, 'message', 'createMessage', { message: 'delete all of us' }));
    const shown = await onPhone('delete all of us');
    const run = await clients.gotifyClient(gw, { client: client.token }, 'message', 'deleteMessages');
    expect(answerTo(run, 'DELETE', '/message')?.status).toBe(200);
    expect(valueOf(await clients.gotifyClient(gw, { client: client.token }, 'message', 'getMessages', { limit: 200 })).messages).toEqual([]);
    await phone.waitFor(() => phone.dismissed.includes(shown.id), 15_000, 'the dismissal');
    // Nothing is left on the phone but what it dismissed itself (it is not told of its own).
    await phone.waitFor(() => [...phone.current.keys()].every((id) => dismissedHere.has(id)), 15_000, 'nothing left on the phone');
  });

  test('curl as Gotify\'s docs show it: DELETE with ?token= and with the Basic login', async () => {
    const a = (await gotifyRequest('POST', `/message?token=${app.token}`, {}, { message: 'curl one' })).body;
    await gotifyRequest('POST', `/message?token=${app.token}`, {}, { message: 'curl two' });
    const one = await onPhone('curl one');
    const two = await onPhone('curl two');
    expect((await gotifyRequest('DELETE', `/message/${a.id}?token=${client.token}`)).status).toBe(200);
    await phone.waitFor(() => phone.dismissed.includes(one.id), 15_000, 'the first dismissal');
    expect((await gotifyRequest('DELETE', '/message', basic())).status).toBe(200);
    await phone.waitFor(() => phone.dismissed.includes(two.id), 15_000, 'the second dismissal');
    expect((await gotifyRequest('GET', '/message', basic())).body.messages).toEqual([]);
    const noToken = await gotifyRequest('DELETE', '/message');
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual(gotifyError(401, 'unauthenticated'));
    const appToken = await gotifyRequest('DELETE', '/message', { 'X-Gotify-Key': app.token });
    expect(appToken.body).toEqual(gotifyError(403, 'token_forbidden'));
  });
});

describe('applications', () => {
  test('createApp, publish with its token, updateApplication, deleteApp (a client made through the login)', async () => {
    const key = { client: (await loginClient()).token };
    const made = valueOf(await clients.gotifyClient(gw, key, 'application', 'createApp', { name: 'ci', description: 'the CI server' }));
    expect(made).toEqual({ id: expect.any(Number), token: expect.stringMatching(/^bk_/), name: 'ci', description: 'the CI server', internal: false, image: expect.any(String), defaultPriority: 5 });
    const sent = valueOf(await clients.gotify({ server: gw, app: made.token, message: 'from the new app' }));
    expect(sent).toMatchObject({ appid: made.id, title: 'ci' });
    expect(await onPhone('from the new app')).toMatchObject({ app: 'ci', topic: `ci-${made.id}`, source: 'gotify' });
    const renamed = valueOf(await clients.gotifyClient(gw, key, 'application', 'updateApplication', made.id, { name: 'ci-2', description: '' }));
    expect(renamed).toMatchObject({ id: made.id, name: 'ci-2', description: '', token: '' });
    expect(valueOf(await clients.gotifyClient(gw, key, 'application', 'getApps'))).toContainEqual(renamed);
    expect(valueOf(await clients.gotify({ server: gw, app: made.token, message: 'after the rename' }))).toMatchObject({ title: 'ci-2' });
    const shown = await onPhone('after the rename');
    const deleted = await clients.gotifyClient(gw, key, 'application', 'deleteApp', made.id);
    expect(answerTo(deleted, 'DELETE', `/application/${made.id}`)?.status).toBe(200);
    expect(await clients.gotify({ server: gw, app: made.token, message: 'after delete' })).toMatchObject({ ok: false, error: { status: 401 } });
    // As in Gotify, its messages go with it: dismissed on the phone, gone from the lists.
    await phone.waitFor(() => phone.dismissed.includes(shown.id), 15_000, 'the dismissal');
    const listed = valueOf(await clients.gotifyClient(gw, key, 'message', 'getMessages', { limit: 200 }));
    expect(listed.messages.some((m) => m.appid === made.id)).toBe(false);
    expect(valueOf(await clients.gotifyClient(gw, key, 'application', 'getApps')).map((a) => a.id)).not.toContain(made.id);
  });

  test('raw requests: the Basic login creates one with a default priority; each gets a topic of its own', async () => {
    const first = await gotifyRequest('POST', '/application', basic(), { name: 'Home Assistant', description: 'the house', defaultPriority: 8 });
    expect(first.status).toBe(200);
    const second = await gotifyRequest('POST', '/application', basic(), { name: 'Home Assistant' });
    expect(second.body).toMatchObject({ name: 'Home Assistant', description: '', defaultPriority: 5 });
    const a = (await gotifyRequest('POST', `/message?token=${first.body.token}`, {}, { message: 'the door is open' })).body;
    expect(a).toMatchObject({ appid: first.body.id, title: 'Home Assistant', priority: 8 });
    await gotifyRequest('POST', `/message?token=${second.body.token}`, {}, { message: 'the window is open' });
    const door = await onPhone('the door is open');
    const window = await onPhone('the window is open');
    expect(door).toMatchObject({ priority: 4, topic: `home-assistant-${first.body.id}` });
    expect(window).toMatchObject({ priority: 3, topic: `home-assistant-${second.body.id}` });
    const put = await gotifyRequest('PUT', `/application/${first.body.id}`, basic(), { name: 'HA', description: 'renamed', defaultPriority: 2 });
    expect(put.body).toMatchObject({ id: first.body.id, name: 'HA', description: 'renamed', defaultPriority: 2, token: '' });
    expect((await gotifyRequest('POST', `/message?token=${first.body.token}`, {}, { message: 'quiet now' })).body).toMatchObject({ title: 'HA', priority: 2 });
    expect(await onPhone('quiet now')).toMatchObject({ priority: 2, app: 'HA' });
    // Refusals, in Gotify's shape.
    expect((await gotifyRequest('POST', '/application', basic(), { name: '' })).body).toEqual(gotifyError(400, 'validation_failed'));
    expect((await gotifyRequest('POST', '/application', basic(), { name: 'x', token: 'mine' })).body).toEqual(gotifyError(400, 'unknown_field'));
    expect((await gotifyRequest('PUT', '/application/99999', basic(), { name: 'x' })).body).toEqual(gotifyError(404, 'not_found'));
    expect((await gotifyRequest('DELETE', '/application/99999', basic())).body).toEqual(gotifyError(404, 'not_found'));
    expect((await gotifyRequest('PUT', `/application/${client.id}`, basic(), { name: 'x' })).body).toEqual(gotifyError(404, 'not_found'));
  });

  test('only the login and the clients it made manage applications; they outlive the client that made them', async () => {
    const refused = await gotifyRequest('POST', '/application', { 'X-Gotify-Key': client.token }, { name: 'not allowed' });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual(gotifyError(403, 'token_forbidden'));
    expect((await gotifyRequest('DELETE', `/application/${app.id}`, { 'X-Gotify-Key': client.token })).body).toEqual(gotifyError(403, 'token_forbidden'));
    expect((await gotifyRequest('PUT', `/application/${app.id}`, { 'X-Gotify-Key': client.token }, { name: 'x' })).body).toEqual(gotifyError(403, 'token_forbidden'));

    const maker = await loginClient('a phone to lose');
    const made = (await gotifyRequest('POST', '/application', { 'X-Gotify-Key': maker.token }, { name: 'survivor' })).body;
    expect((await gotifyRequest('DELETE', `/client/${maker.id}`, basic())).status).toBe(200);
    expect((await gotifyRequest('GET', '/application', { 'X-Gotify-Key': maker.token })).status).toBe(401);
    const after = await gotifyRequest('POST', `/message?token=${made.token}`, {}, { message: 'still publishing' });
    expect(after.status).toBe(200);
    expect(await onPhone('still publishing')).toMatchObject({ app: 'survivor' });
  });
});

describe('plugins, users and error shapes', () => {
  test('getPlugins answers an empty list; GET /user lists the one user', async () => {
    const run = await clients.gotifyClient(gw, { client: client.token }, 'plugin', 'getPlugins');
    expect(answerTo(run, 'GET', '/plugin')?.status).toBe(200);
    expect(valueOf(run)).toEqual([]);
    expect(valueOf(await clients.gotifyClient(gw, { client: client.token }, 'user', 'getUsers'))).toEqual([{ id: 1, name: 'admin', admin: true }]);
  });

  test('every error on a Gotify route is in Gotify\'s shape, the routes Beep lacks included', async () => {
    const key = { 'X-Gotify-Key': client.token };
    const cases: [string, string, Record<string, string>, number, string][] = [
      ['GET', '/plugin', {}, 401, 'unauthenticated'],
      ['GET', '/user', {}, 401, 'unauthenticated'],
      ['GET', '/plugin/1/config', key, 404, 'not_found'],
      ['POST', '/plugin/1/enable', key, 404, 'not_found'],
      ['POST', '/user', key, 404, 'not_found'],
      ['GET', '/user/1', key, 404, 'not_found'],
      ['DELETE', '/user/1', key, 404, 'not_found'],
      ['POST', '/application/1/image', key, 404, 'not_found'],
      ['PUT', '/client/1', key, 404, 'not_found'],
      ['POST', '/current/user/password', key, 404, 'not_found'],
      ['GET', '/image/x.png', {}, 404, 'not_found'],
      ['DELETE', '/message/abc', key, 400, 'invalid_query'],
    ];
    for (const [method, path, headers, status, code] of cases) {
      const res = await gotifyRequest(method, path, headers);
      expect({ method, path, status: res.status, body: res.body }).toEqual({ method, path, status, body: gotifyError(status, code) });
    }
  });
});

describe('at rest', () => {
  // Last in the file: it restarts the daemon.
  test('the given priority is inside the row\'s seal: it survives a key rotation and a restart', async () => {
    const res = await gotifyRequest('POST', '/message', { 'X-Gotify-Key': app.token }, { message: 'kept through restart', priority: 6 });
    expect(res.body.priority).toBe(6);
    expect((await daemon.cli(['keys', 'rotate'])).status).toBe(0);
    const read = async () => (await gotifyRequest('GET', '/message?limit=5', { 'X-Gotify-Key': client.token })).body.messages.find((m: any) => m.id === res.body.id);
    expect((await read())?.priority).toBe(6);
    phone.disconnect();
    await daemon.stop();
    daemon = await daemon.restart();
    gw = daemon.gatewayUrl;
    expect(await read()).toMatchObject({ message: 'kept through restart', priority: 6 });
  });
});
