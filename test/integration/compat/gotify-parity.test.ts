import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, HttpStream, send, until, WsReader } from '../../helpers/compat';
import { answerTo, RealClients, type ClientRun } from '../../helpers/real-clients';
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

function valueOf<T>(run: ClientRun<T>): T {
  if (!run.ok) throw new Error(`the client failed: ${JSON.stringify(run.error)}; requests: ${JSON.stringify(run.requests)}`);
  return run.value;
}

async function onPhone(body: string, timeoutMs = 15_000): Promise<WireNotification> {
  const find = () => [...phone.unique.values()].find((n) => n.body === body);
  await phone.waitFor(() => find() !== undefined, timeoutMs, `"${body}" on the phone`);
  return find()!;
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
