import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, HttpStream, send, until } from '../../helpers/compat';
import { answerTo, RealClients, valueOf } from '../../helpers/real-clients';
import type { WireNotification } from '../../../app/domain/notification';

// ntfy's action buttons (docs/publish.md, "Action buttons"): view and http actions, at most
// three, in the three syntaxes ntfy accepts (the short header format, JSON publishing, and the
// header the `ntfy` npm package writes); broadcast refused. They reach a paired phone on Beep's
// wire (`actions`, without an http action's headers and body) and ntfy subscribers in ntfy's
// JSON. An http action is performed by the daemon when the phone asks (socket event `action`),
// only to hosts on compat.ntfy.httpActionHosts, with a timeout and a response cap.

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let daemon: RunningDaemon;
let clients: RealClients;
let phone: Phone;
let pub: string;
let target: http.Server;
let targetUrl: string;
const seen: Seen[] = [];

beforeAll(async () => {
  // A local service an http action may call (the garage door of ntfy's example).
  target = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/hang') return; // never answers: the daemon's timeout must end it
      if (req.url === '/big') return void res.end('x'.repeat(200_000));
      if (req.url === '/fail') return void res.writeHead(500).end('door jammed');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('door closed');
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  daemon = await startDaemon({
    // Info lines too, so the log is shown to hold the performed action without its credential.
    env: { BEEP_LOG_LEVEL: 'info' },
    config: {
      rateLimits: HAMMER_LIMITS,
      compat: { ntfy: { httpActionHosts: ['127.0.0.1'], httpActionTimeoutMs: 1500, httpActionMaxResponseBytes: 4096 } },
    },
  });
  clients = RealClients.for(daemon);
  pub = (await createToken(daemon, 'publish', undefined, 'scripts')).token;
  phone = await Phone.paired(daemon, 'actions phone');
  await phone.connect(daemon);
});

afterAll(async () => {
  phone?.disconnect();
  await daemon?.stop();
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const gw = (p: string) => `${daemon.gatewayUrl}${p}`;

function onPhone(body: string, timeoutMs?: number): Promise<WireNotification> {
  return phone.withBody(body, timeoutMs);
}

/** Everything stored on a topic, as an ntfy poll reads it. */
async function polled(topic: string): Promise<any[]> {
  const reader = (await createToken(daemon, 'subscribe', [topic])).token;
  const stream = await HttpStream.open(`${daemon.gatewayUrl}/${topic}/json?poll=1&since=all`, bearer(reader), daemon.caPem);
  await until(() => stream.ended, 'the poll to end', 15_000);
  return stream.json;
}

/** The phone asks the daemon to perform an action; resolves with the daemon's reply. */
function perform(notificationId: string, actionId: string): Promise<any> {
  return new Promise((resolve) => (phone.socket as any).emit('action', { id: notificationId, action: actionId }, resolve));
}

async function publishHeader(topic: string, body: string, actions: string): Promise<{ status: number; body: any }> {
  return send('POST', gw(`/${topic}`), body, { ...bearer(pub), Actions: actions }, daemon.caPem);
}

const auth = (token: string) => ({ username: 'me', password: token });
const closeDoor = { headers: { Authorization: 'Bearer zAzsx1sk..' }, label: 'Close door', method: 'PUT', type: 'http', url: 'https://api.mygarage.lan' } as const;
const openPortal = { clear: true, label: 'Open portal', type: 'view', url: 'https://api.nest.com/' } as const;

describe('the three syntaxes reach the phone and ntfy subscribers', () => {
  test('the ntfy package\'s advanced example, as far as ntfy accepts it (no broadcast, e-mail, cache or delay): buttons on the phone and in the answer', async () => {
    const body = 'Remote access to device detected. Act right away.';
    const answer = valueOf(
      await clients.ntfy({
        actions: [{ ...closeDoor, headers: { ...closeDoor.headers } }, openPortal],
        authorization: auth(pub),
        clickURL: 'https://github.com/ffflorian/',
        disableFirebase: true,
        iconURL: 'https://avatars.githubusercontent.com/ffflorian',
        message: body,
        priority: 5,
        server: daemon.gatewayUrl,
        tags: ['warning', 'skull'],
        title: 'Unauthorized access detected',
        topic: 'mytopic',
      }),
    );
    expect(answer).toMatchObject({
      event: 'message', topic: 'mytopic', title: 'Unauthorized access detected', priority: 5,
      actions: [
        { action: 'http', label: 'Close door', url: 'https://api.mygarage.lan', method: 'PUT', headers: { Authorization: 'Bearer zAzsx1sk..' }, clear: false },
        { action: 'view', label: 'Open portal', url: 'https://api.nest.com/', clear: true },
      ],
    });
    const n = await onPhone(body);
    expect(n).toMatchObject({ priority: 5, actions: [{ action: 'http', label: 'Close door', method: 'PUT' }, { action: 'view', label: 'Open portal', url: 'https://api.nest.com/', clear: true }] });
    // The http action's headers and body stay on the daemon: a phone never holds the credential.
    expect(JSON.stringify(n)).not.toContain('zAzsx1sk');
    const [stored] = (await polled('mytopic')).filter((m) => m.id === answer.id);
    expect(stored.actions).toEqual(answer.actions);
  });

  test('the package\'s http action with a body is refused as ntfy refuses it (a bare term), and nothing is delivered', async () => {
    const run = await clients.ntfy({ server: daemon.gatewayUrl, topic: 'alerts', message: 'bare body', authorization: auth(pub), actions: [{ ...closeDoor, body: '{"action": "close"}' }] });
    expect(run.ok).toBe(false);
    expect(answerTo(run, 'POST', '/alerts')).toMatchObject({ status: 400, body: { beep_code: 'invalid_actions', error: expect.stringMatching(/term/) } });
    await phone.sentinel(daemon);
    expect([...phone.unique.values()].some((n) => n.body === 'bare body')).toBe(false);
  });

  test('the short header format (docs example, quoted values, headers.*, body=, clear) → phone, stream and poll', async () => {
    const stream = await HttpStream.open(gw('/doors/json'), bearer((await createToken(daemon, 'subscribe', ['doors'])).token), daemon.caPem);
    await until(() => stream.json.some((m) => m.event === 'open'), 'the stream to open');
    const res = await publishHeader(
      'doors',
      'someone at the door',
      'view, Open portal, https://home.nest.com/, clear=true; http, "Close door, now", https://api.mygarage.lan, method=put, headers.Authorization=Bearer zAzsx1sk.., body=\'{"close": true}\'',
    );
    expect(res.status).toBe(200);
    const expected = [
      { id: expect.any(String), action: 'view', label: 'Open portal', url: 'https://home.nest.com/', clear: true },
      { id: expect.any(String), action: 'http', label: 'Close door, now', url: 'https://api.mygarage.lan', method: 'PUT', headers: { Authorization: 'Bearer zAzsx1sk..' }, body: '{"close": true}', clear: false },
    ];
    expect(res.body.actions).toEqual(expected);
    expect((await onPhone('someone at the door')).actions).toEqual([
      { id: res.body.actions[0].id, action: 'view', label: 'Open portal', url: 'https://home.nest.com/', clear: true },
      { id: res.body.actions[1].id, action: 'http', label: 'Close door, now', url: 'https://api.mygarage.lan', method: 'PUT', clear: false },
    ]);
    await until(() => stream.json.some((m) => m.id === res.body.id), 'the live message');
    expect(stream.json.find((m) => m.id === res.body.id).actions).toEqual(res.body.actions);
    stream.close();
    expect((await polled('doors')).find((m) => m.id === res.body.id).actions).toEqual(res.body.actions);
  });

  test('JSON publishing (actions: [...]) and the JSON array in the header', async () => {
    const json = await send('POST', gw('/'), JSON.stringify({
      topic: 'viajson', message: 'json actions',
      actions: [{ action: 'view', label: 'Admin panel', url: 'https://filesrv.lan/admin', clear: true }, { action: 'http', label: 'Delete', url: 'https://filesrv.lan/x', method: 'DELETE', headers: { 'X-Key': 'k1' } }],
    }), { ...bearer(pub), 'content-type': 'application/json' }, daemon.caPem);
    expect(json.status).toBe(200);
    expect(json.body.actions).toMatchObject([{ action: 'view', label: 'Admin panel', clear: true }, { action: 'http', method: 'DELETE', headers: { 'X-Key': 'k1' }, clear: false }]);
    expect((await onPhone('json actions')).actions).toMatchObject([{ action: 'view', label: 'Admin panel' }, { action: 'http', label: 'Delete', method: 'DELETE' }]);
    const header = await publishHeader('viajson', 'json in header', '[{"action":"http","label":"Reboot","url":"https://srv.lan/reboot"}]');
    expect(header.status).toBe(200);
    expect(header.body.actions).toEqual([{ id: expect.any(String), action: 'http', label: 'Reboot', url: 'https://srv.lan/reboot', method: 'POST', clear: false }]);
    expect((await polled('viajson')).map((m) => m.actions?.length)).toEqual([2, 1]);
  });

  test('refused with a clear 400: broadcast (an Android intent), a fourth action, unknown keys, a body with GET, a URL that is not http(s)', async () => {
    const cases: [string, RegExp][] = [
      ['broadcast, Take picture, extras.cmd=pic', /broadcast.*Android/],
      ['view, a, https://a.lan/; view, b, https://b.lan/; view, c, https://c.lan/; view, d, https://d.lan/', /at most 3/],
      ['view, a, https://a.lan/, colour=red', /key 'colour' unknown/],
      ['http, a, https://a.lan/, method=GET, body=x', /body.*GET/],
      ['view, Mail, mailto:phil@example.com', /http or https/],
      ['view, , https://a.lan/', /label/],
      ['view, "unterminated, https://a.lan/', /quote/],
    ];
    for (const [actions, message] of cases) {
      const res = await publishHeader('alerts', `refused ${actions}`, actions);
      expect({ actions, status: res.status, code: res.body.beep_code }).toEqual({ actions, status: 400, code: actions.startsWith('broadcast') ? 'unsupported_parameter' : 'invalid_actions' });
      expect(res.body.error).toMatch(message);
    }
    const json = await send('POST', gw('/'), JSON.stringify({ topic: 'alerts', message: 'json broadcast', actions: [{ action: 'broadcast', label: 'x' }] }), { ...bearer(pub), 'content-type': 'application/json' }, daemon.caPem);
    expect(json).toMatchObject({ status: 400, body: { beep_code: 'unsupported_parameter' } });
    await phone.sentinel(daemon);
    expect([...phone.unique.values()].some((n) => n.body.startsWith('refused') || n.body === 'json broadcast')).toBe(false);
  });
});

describe('the daemon performs an http action the phone asks for', () => {
  async function publishAction(body: string, url: string, extra = ''): Promise<WireNotification> {
    const res = await publishHeader('garage', body, `http, Close door, ${url}, method=PUT, headers.Authorization=Bearer s3cret-door-key, headers.X-Door=main, body="close it"${extra}`);
    expect(res.status).toBe(200);
    return onPhone(body);
  }

  test('to a listed host: the request arrives with its method, headers and body; the result comes back; clear dismisses', async () => {
    const n = await publishAction('door open', `${targetUrl}/door`, ', clear=true');
    const before = seen.length;
    const reply = await perform(n.id, n.actions![0].id);
    expect(reply).toEqual({ ok: true, status: 200, body: 'door closed', cleared: true });
    const got = seen.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ method: 'PUT', url: '/door', body: 'close it', headers: { authorization: 'Bearer s3cret-door-key', 'x-door': 'main' } });
    // Cleared: dismissed for every device, gone from what is owed.
    expect((await daemon.admin('GET', '/api/v1/notifications?limit=50')).body.find((x: any) => x.id === n.id).dismissedAt).toEqual(expect.any(String));
    // Audited, without the credential; never in the log either.
    const audit = await daemon.admin('GET', '/api/v1/audit?limit=50');
    const entry = (audit.body as any[]).find((e: any) => e.event === 'http_action');
    expect(entry).toMatchObject({ actor: `device:${phone.credentials.deviceId}`, details: { host: '127.0.0.1', method: 'PUT', status: 200, notificationId: n.id } });
    expect(JSON.stringify(audit.body)).not.toContain('s3cret');
    await until(() => daemon.logs().includes('http action performed'), 'the log line');
    // Sealed at rest: the credential is in no file of the database.
    for (const file of ['beep.db', 'beep.db-wal']) {
      const full = path.join(daemon.dataDir, file);
      if (fs.existsSync(full)) expect(fs.readFileSync(full).includes('s3cret-door-key')).toBe(false);
    }
    expect(daemon.logs()).not.toContain('s3cret');
  });

  test('a failing answer is reported and does not clear', async () => {
    const n = await publishAction('door stuck', `${targetUrl}/fail`, ', clear=true');
    expect(await perform(n.id, n.actions![0].id)).toEqual({ ok: true, status: 500, body: 'door jammed', cleared: false });
    expect((await daemon.admin('GET', '/api/v1/notifications?limit=50')).body.find((x: any) => x.id === n.id).dismissedAt).toBeNull();
  });

  test('an unlisted host is refused and never contacted (localhost is not 127.0.0.1 on the list)', async () => {
    const port = (target.address() as AddressInfo).port;
    const n = await publishAction('unlisted', `http://localhost:${port}/door`);
    const before = seen.length;
    const reply = await perform(n.id, n.actions![0].id);
    expect(reply).toEqual({ error: { code: 'action_forbidden', message: expect.stringMatching(/localhost.*httpActionHosts/) } });
    const other = await publishAction('elsewhere', 'https://api.mygarage.lan/door');
    expect(await perform(other.id, other.actions![0].id)).toMatchObject({ error: { code: 'action_forbidden' } });
    // A listed request after them arrives first: nothing of the refused ones was ever sent.
    const ok = await publishAction('sentinel action', `${targetUrl}/door`);
    expect(await perform(ok.id, ok.actions![0].id)).toMatchObject({ ok: true, status: 200 });
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/door']);
    const audit = await daemon.admin('GET', '/api/v1/audit?limit=100');
    expect((audit.body as any[]).filter((e: any) => e.event === 'http_action_refused').map((e: any) => e.details.host)).toEqual(expect.arrayContaining(['localhost', 'api.mygarage.lan']));
  });

  test('a timeout and the response cap end the request', async () => {
    const hang = await publishAction('hangs', `${targetUrl}/hang`);
    expect(await perform(hang.id, hang.actions![0].id)).toEqual({ error: { code: 'action_timeout', message: expect.any(String) } });
    const big = await publishAction('big answer', `${targetUrl}/big`);
    const reply = await perform(big.id, big.actions![0].id);
    expect(reply).toMatchObject({ ok: true, status: 200, truncated: true });
    expect(reply.body.length).toBeLessThanOrEqual(4096);
  });

  test('a view action, an unknown id or another device\'s topic is not performed', async () => {
    const res = await publishHeader('garage', 'view only', 'view, Open, https://home.nest.com/');
    const n = await onPhone('view only');
    expect(await perform(n.id, n.actions![0].id)).toMatchObject({ error: { code: 'not_found' } });
    expect(await perform(n.id, 'nope')).toMatchObject({ error: { code: 'not_found' } });
    expect(await perform('unknown-id', 'x')).toMatchObject({ error: { code: 'not_found' } });
    expect(res.status).toBe(200);
    // A device that chose other topics cannot have an action of this topic performed.
    const other = await Phone.paired(daemon, 'other phone');
    await other.connect(daemon);
    const topics: any = await new Promise((r) => (other.socket as any).emit('topics', { topics: ['elsewhere'] }, r));
    expect(topics).toMatchObject({ ok: true });
    const door = await publishAction('not yours', `${targetUrl}/door`);
    const reply = await new Promise((r) => (other.socket as any).emit('action', { id: door.id, action: door.actions![0].id }, r));
    expect(reply).toMatchObject({ error: { code: 'not_found' } });
    other.disconnect();
  });
});

test('`beep listen` prints the buttons under the notification', async () => {
  const code = await daemon.admin('POST', '/api/v1/pairings');
  const url = code.body.url.replace(/^https:\/\/[^/]+/, daemon.gatewayUrl);
  const main = path.resolve(__dirname, '../../../dist/app/main.js');
  const proc = spawn(process.execPath, [main, '--data-dir', daemon.dataDir, 'listen', '--state', path.join(daemon.dataDir, 'listen-actions.json'), '--name', 'cli', '--url', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await until(() => err.includes('connected'), 'the listener to connect', 20_000);
    await publishHeader('listen', 'for the terminal', 'view, Open portal, https://home.nest.com/; http, Close door, https://api.mygarage.lan/, method=PUT, headers.Authorization=Bearer cli-s3cret');
    await until(() => out.includes('[Close door]'), 'the buttons printed', 20_000);
    expect(out).toContain('    [Open portal] → https://home.nest.com/');
    expect(out).toContain('    [Close door] PUT https://api.mygarage.lan/ (sent by the PC)');
    expect(out).not.toContain('cli-s3cret');
  } finally {
    proc.kill('SIGKILL');
  }
});
