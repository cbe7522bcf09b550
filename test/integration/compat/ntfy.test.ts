import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone, pair } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, HttpStream, send, until, WsReader } from '../../helpers/compat';

// ntfy's publish and subscribe APIs (docs/publish.md, docs/subscribe/api.md) against the real
// daemon: every documented way to publish, every way to subscribe, since= and the filters,
// resume by message id, and token rules. keepaliveSec is 1 here so keepalives are observable.

let daemon: RunningDaemon;
let pub: string;
let sub: string;
const open: { close(): void }[] = [];

beforeAll(async () => {
  daemon = await startDaemon({ config: { compat: { keepaliveSec: 1 }, rateLimits: HAMMER_LIMITS } });
  pub = (await createToken(daemon, 'publish', undefined, 'scripts')).token;
  sub = (await createToken(daemon, 'subscribe', ['alerts', 'backups', 'resume', 'live', 'pf'])).token;
});

afterAll(async () => {
  for (const s of open) s.close();
  await daemon?.stop();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const admin = (path: string) => `${daemon.adminUrl}${path}`;
const RETENTION_SEC = 7 * 86_400;

/** The fields every ntfy message event has, plus the ones a test names. */
function message(fields: Record<string, unknown>) {
  return { id: expect.stringMatching(/^[A-Za-z0-9_-]+$/), time: expect.any(Number), expires: expect.any(Number), event: 'message', ...fields };
}

describe('publishing (docs/publish.md)', () => {
  test('POST /<topic>: body is the message; X- headers; the answer is the message JSON', async () => {
    const res = await send('POST', admin('/alerts'), 'Remote access to phils-laptop detected. Act right away.', {
      ...bearer(pub), 'X-Title': 'Unauthorized access detected', 'X-Priority': '5', 'X-Tags': 'warning,skull',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(message({ topic: 'alerts', title: 'Unauthorized access detected', message: 'Remote access to phils-laptop detected. Act right away.', priority: 5, tags: ['warning', 'skull'] }));
    expect(res.body.expires - res.body.time).toBe(RETENTION_SEC);
  });

  test('PUT with the short aliases, priority names, click, icon and markdown', async () => {
    const cases: [Record<string, string>, Record<string, unknown>][] = [
      [{ Title: 'Dogs', Priority: 'low', Tags: 'dog' }, { title: 'Dogs', priority: 2, tags: ['dog'] }],
      [{ t: 'Cats', p: 'max', ta: 'cat,x' }, { title: 'Cats', priority: 5, tags: ['cat', 'x'] }],
      [{ ti: 'Birds', prio: 'urgent', tag: 'bird' }, { title: 'Birds', priority: 5, tags: ['bird'] }],
      [{ 'X-Priority': 'min' }, { priority: 1 }],
      [{ Priority: 'default' }, {}],
      [{ Click: 'https://home.nest.com/', Icon: 'https://example.com/icon.png' }, { click: 'https://home.nest.com/', icon: 'https://example.com/icon.png' }],
      [{ 'X-Click': 'https://a.example/', 'X-Icon': 'https://b.example/i.png', 'X-Markdown': 'yes' }, { click: 'https://a.example/', icon: 'https://b.example/i.png', content_type: 'text/markdown' }],
      [{ Markdown: 'true' }, { content_type: 'text/markdown' }],
      [{ md: '1' }, { content_type: 'text/markdown' }],
      [{ 'Content-Type': 'text/markdown' }, { content_type: 'text/markdown' }],
      [{ Title: '=?UTF-8?B?8J+HqfCfh6o=?=' }, { title: '🇩🇪' }],
      [{ 'X-Message': 'from the header' }, { message: 'from the header' }],
    ];
    for (const [headers, fields] of cases) {
      const res = await send('PUT', admin('/backups'), '**body**', { ...bearer(pub), ...headers });
      expect({ headers, status: res.status }).toEqual({ headers, status: 200 });
      expect(res.body).toEqual(message({ topic: 'backups', message: '**body**', ...fields }));
    }
  });

  test('GET /<topic>/publish, /send and /trigger with query parameters (webhooks)', async () => {
    const full = await send('GET', admin('/alerts/publish?message=Webhook+triggered&priority=high&tags=warning,skull'), undefined, bearer(pub));
    expect(full.body).toEqual(message({ topic: 'alerts', message: 'Webhook triggered', priority: 4, tags: ['warning', 'skull'] }));
    const trigger = await send('GET', admin('/alerts/trigger'), undefined, bearer(pub));
    expect(trigger.body).toEqual(message({ topic: 'alerts', message: 'triggered' }));
    const short = await send('GET', admin('/alerts/send?m=Hi&t=Short&p=2&ta=a&click=https://x.example/'), undefined, bearer(pub));
    expect(short.body).toEqual(message({ topic: 'alerts', message: 'Hi', title: 'Short', priority: 2, tags: ['a'], click: 'https://x.example/' }));
    const post = await send('POST', admin('/alerts/publish?title=Q&md=yes'), 'body', bearer(pub));
    expect(post.body).toEqual(message({ topic: 'alerts', message: 'body', title: 'Q', content_type: 'text/markdown' }));
  });

  test('JSON to / with every supported field', async () => {
    const body = { topic: 'alerts', message: 'Disk space is low at 5.1 GB', title: 'Low disk space alert', tags: ['warning', 'cd'], priority: 4, click: 'https://homecamera.lan/xasds1h2xsSsa/', icon: 'https://filesrv.lan/i.png', markdown: true };
    const res = await send('POST', admin('/'), JSON.stringify(body), bearer(pub));
    expect(res.body).toEqual(message({ topic: 'alerts', message: body.message, title: body.title, tags: body.tags, priority: 4, click: body.click, icon: body.icon, content_type: 'text/markdown' }));
    const put = await send('PUT', admin('/'), JSON.stringify({ topic: 'alerts' }), { ...bearer(pub), 'content-type': 'application/json' });
    expect(put.body).toEqual(message({ topic: 'alerts', message: 'triggered' }));
  });

  test('what Beep cannot do is refused with a clear error, never dropped', async () => {
    const cases: [string, string, string | undefined, Record<string, string>, number, string][] = [
      ['POST', '/alerts', 'x', { Email: 'a@b.c' }, 400, 'unsupported_parameter'],
      ['POST', '/alerts', 'x', { Priority: 'loud' }, 400, 'invalid_priority'],
      ['POST', '/alerts', 'x', { Click: 'javascript:alert(1)' }, 400, 'invalid_url'],
      ['POST', '/', JSON.stringify({ topic: 'alerts', actions: [{ action: 'broadcast', label: 'Take picture' }] }), {}, 400, 'unsupported_parameter'],
      ['POST', '/', JSON.stringify({ topic: 'alerts', colour: 'red' }), {}, 400, 'unknown_field'],
      ['POST', '/', JSON.stringify({ message: 'no topic' }), {}, 400, 'invalid_topic'],
      ['POST', '/', 'not json', {}, 400, 'invalid_json'],
    ];
    for (const [method, path, body, headers, status, code] of cases) {
      const res = await send(method, admin(path), body, { ...bearer(pub), ...headers });
      expect({ path, headers, status: res.status, body: res.body }).toEqual({ path, headers, status, body: { code: status * 100, http: status, error: expect.any(String), beep_code: code } });
    }
  });
});

describe('subscribing (docs/subscribe/api.md)', () => {
  test('poll=1 on /json, /sse and /raw returns the cached messages in order, then ends', async () => {
    const sent = [];
    for (const text of ['one', 'two\nlines', 'three']) sent.push((await send('POST', admin('/pf'), text, { ...bearer(pub), Title: text.toUpperCase().replace('\n', ' ') })).body);
    const json = await HttpStream.open(admin('/pf/json?poll=1'), bearer(sub));
    await until(() => json.ended, 'poll end');
    expect(json.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(json.json).toEqual(sent);
    const sse = await HttpStream.open(admin('/pf/sse?poll=1'), bearer(sub));
    await until(() => sse.ended, 'poll end');
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sse.sse).toEqual(sent.map((data) => ({ data })));
    const raw = await HttpStream.open(admin('/pf/raw?poll=1'), bearer(sub));
    await until(() => raw.ended, 'poll end');
    expect(raw.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(raw.text).toBe('one\ntwo lines\nthree\n');
    const ws = await WsReader.open(`ws://127.0.0.1:${daemon.runtime.adminPort}/pf/ws?poll=1`, bearer(sub));
    await until(() => ws.closed, 'ws poll end');
    expect(ws.messages).toEqual(sent);
  });

  test('live /json, /sse, /raw and /ws: open, then messages as published, then keepalives', async () => {
    const json = await HttpStream.open(admin('/live,alerts/json'), bearer(sub));
    const sse = await HttpStream.open(admin('/live/sse'), bearer(sub));
    const raw = await HttpStream.open(admin('/live/raw'), bearer(sub));
    const ws = await WsReader.open(`ws://127.0.0.1:${daemon.runtime.adminPort}/live/ws`, bearer(sub));
    open.push(json, sse, raw, ws);
    await until(() => json.json.length > 0 && sse.sse.length > 0 && raw.text.length > 0 && ws.messages.length > 0, 'open events');
    expect(json.json[0]).toEqual({ id: expect.any(String), time: expect.any(Number), event: 'open', topic: 'live,alerts' });
    expect(sse.sse[0]).toEqual({ event: 'open', data: { id: expect.any(String), time: expect.any(Number), event: 'open', topic: 'live' } });
    expect(ws.messages[0]).toEqual({ id: expect.any(String), time: expect.any(Number), event: 'open', topic: 'live' });
    expect(raw.text).toBe('\n');
    const published = (await send('POST', admin('/live'), 'Hi!', bearer(pub))).body;
    const other = (await send('POST', admin('/alerts'), 'for topic 2', bearer(pub))).body;
    await send('POST', admin('/backups'), 'not subscribed here', bearer(pub));
    await until(() => json.json.filter((m) => m.event === 'message').length === 2 && ws.messages.length >= 2, 'live messages');
    expect(json.json.filter((m) => m.event === 'message')).toEqual([published, other]);
    await until(() => sse.sse.some((e) => e.data.event === 'message'), 'sse message');
    expect(sse.sse.find((e) => e.data.event === 'message')).toEqual({ data: published });
    expect(ws.messages.filter((m) => m.event === 'message')).toEqual([published]);
    await until(() => raw.text.includes('Hi!\n'), 'raw message');
    await until(() => json.json.some((m) => m.event === 'keepalive') && sse.sse.some((e) => e.event === 'keepalive'), 'keepalives', 5000);
    expect(json.json.find((m) => m.event === 'keepalive')).toEqual({ id: expect.any(String), time: expect.any(Number), event: 'keepalive', topic: 'live,alerts' });
    expect(sse.sse.find((e) => e.event === 'keepalive')!.data.topic).toBe('live');
    for (const s of [json, sse, raw, ws]) s.close();
  });

  test('since=<id> resumes exactly after that message: none skipped, none repeated', async () => {
    const first = await HttpStream.open(admin('/resume/json'), bearer(sub));
    const m1 = (await send('POST', admin('/resume'), 'm1', bearer(pub))).body;
    await until(() => first.json.some((m) => m.id === m1.id), 'm1 live');
    first.close();
    // Away: five more, to the topic and elsewhere.
    const away = [];
    for (let i = 2; i <= 6; i++) {
      away.push((await send('POST', admin('/resume'), `m${i}`, bearer(pub))).body);
      await send('POST', admin('/alerts'), `noise ${i}`, bearer(pub));
    }
    const back = await HttpStream.open(admin(`/resume/json?since=${m1.id}`), bearer(sub));
    open.push(back);
    await until(() => back.json.filter((m) => m.event === 'message').length === 5, 'the backlog');
    const m7 = (await send('POST', admin('/resume'), 'm7', bearer(pub))).body;
    await until(() => back.json.some((m) => m.id === m7.id), 'm7 live');
    expect(back.json.filter((m) => m.event === 'message').map((m) => m.message)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(back.json.filter((m) => m.event === 'message')).toEqual([...away, m7]);
    back.close();
  });

  test('since= as all, latest, a Unix time and a duration; the filters', async () => {
    const poll = async (query: string) => {
      const s = await HttpStream.open(admin(`/alerts/json?poll=1&${query}`), bearer(sub));
      await until(() => s.ended, 'poll');
      return s.json;
    };
    const all = await poll('since=all');
    expect(all.length).toBeGreaterThan(5);
    expect(await poll('')).toEqual(all);
    expect(await poll('since=latest')).toEqual([all[all.length - 1]]);
    expect(await poll('since=10m')).toEqual(all);
    expect(await poll(`since=${all[all.length - 1].time + 60}`)).toEqual([]);
    expect(await poll(`since=${all[0].time}`)).toEqual(all);
    expect(await poll(`since=${all[1].id}`)).toEqual(all.slice(2));
    expect(await poll('priority=high,urgent')).toEqual(all.filter((m) => m.priority === 4 || m.priority === 5));
    expect(await poll('p=5')).toEqual(all.filter((m) => m.priority === 5));
    expect(await poll('tags=warning,skull')).toEqual(all.filter((m) => m.tags?.includes('warning') && m.tags?.includes('skull')));
    expect(await poll('title=Unauthorized+access+detected')).toEqual(all.filter((m) => m.title === 'Unauthorized access detected'));
    expect(await poll('message=triggered')).toEqual(all.filter((m) => m.message === 'triggered'));
    expect(await poll(`id=${all[2].id}`)).toEqual([all[2]]);
    const byHeader = await HttpStream.open(admin('/alerts/json'), { ...bearer(sub), 'X-Poll': '1', 'X-Priority': '5' });
    await until(() => byHeader.ended, 'poll');
    expect(byHeader.json).toEqual(all.filter((m) => m.priority === 5));
    expect((await send('GET', admin('/alerts/json?poll=1&since=soon!'), undefined, bearer(sub))).body.beep_code).toBe('invalid_query');
  });

  test('over TLS on the gateway with the same tokens', async () => {
    const res = await send('POST', `${daemon.gatewayUrl}/alerts`, 'from the LAN', { ...bearer(pub), t: 'LAN' }, daemon.caPem);
    expect(res.body).toEqual(message({ topic: 'alerts', title: 'LAN', message: 'from the LAN' }));
    const s = await HttpStream.open(`${daemon.gatewayUrl}/alerts/json?poll=1&since=${encodeURIComponent('latest')}`, bearer(sub), daemon.caPem);
    await until(() => s.ended, 'poll');
    expect(s.json).toEqual([res.body]);
    const ws = await WsReader.open(`wss://localhost:${daemon.runtime.gatewayPort}/alerts/ws?since=latest`, bearer(sub), daemon.caPem);
    await until(() => ws.messages.length === 2, 'ws open + latest');
    expect(ws.messages[1]).toEqual(res.body);
    ws.close();
  });
});

describe('tokens and reserved routes', () => {
  test('a publish token cannot subscribe, a subscribe token cannot publish, scope and absence are refused', async () => {
    const refused = async (method: string, path: string, token: string | undefined) => {
      const res = await send(method, admin(path), method === 'GET' ? undefined : 'x', token ? bearer(token) : {});
      return [res.status, res.body.beep_code];
    };
    expect(await refused('GET', '/alerts/json?poll=1', pub)).toEqual([403, 'token_forbidden']);
    expect(await refused('POST', '/alerts', sub)).toEqual([403, 'token_forbidden']);
    expect(await refused('GET', '/elsewhere/json?poll=1', sub)).toEqual([403, 'token_forbidden']);
    expect(await refused('GET', '/alerts,elsewhere/json?poll=1', sub)).toEqual([403, 'token_forbidden']);
    expect(await refused('POST', '/alerts', undefined)).toEqual([401, 'unauthenticated']);
    expect(await refused('POST', '/alerts', 'bk_wrong')).toEqual([401, 'invalid_token']);
    const ws = await WsReader.open(`ws://127.0.0.1:${daemon.runtime.adminPort}/alerts/ws`, bearer(pub));
    expect(ws.refused?.status).toBe(403);
    // ntfy's other credential forms: Basic with the token as password, and ?auth=.
    const basic = await send('POST', admin('/alerts'), 'basic', { authorization: `Basic ${Buffer.from(`me:${pub}`).toString('base64')}` });
    expect(basic.status).toBe(200);
    const auth = Buffer.from(`Bearer ${pub}`).toString('base64url');
    expect((await send('GET', admin(`/alerts/trigger?auth=${auth}`))).status).toBe(200);
  });

  test('a revoked token is refused at once and its open streams close', async () => {
    const doomed = await createToken(daemon, 'subscribe', ['alerts']);
    const stream = await HttpStream.open(admin('/alerts/json'), bearer(doomed.token));
    await until(() => stream.json.length > 0, 'open');
    expect((await daemon.admin('DELETE', `/api/v1/tokens/${doomed.id}`)).status).toBe(204);
    await until(() => stream.ended, 'the stream closed');
    const again = await send('GET', admin('/alerts/json?poll=1'), undefined, bearer(doomed.token));
    expect([again.status, again.body.beep_code]).toEqual([401, 'invalid_token']);
    expect((await daemon.admin('DELETE', `/api/v1/tokens/${doomed.id}`)).body.error.code).toBe('token_not_found');
    expect((await daemon.admin('GET', '/api/v1/tokens')).body.map((t: { id: number }) => t.id)).not.toContain(doomed.id);
  });

  test("topics never shadow Beep's routes; reserved names are refused", async () => {
    expect((await daemon.admin('GET', '/api/v1/devices')).status).toBe(200);
    expect((await send('GET', admin('/health'))).body).toEqual({ status: 'ok', uptime: expect.any(Number) });
    expect((await send('POST', admin('/health'), 'x', bearer(pub))).status).toBe(404);
    // A reserved first segment falls through to Beep's own routes (here: none, so 404).
    expect((await send('GET', admin('/metrics/json?poll=1'), undefined, bearer(sub))).body.error.code).toBe('not_found');
    const res = await daemon.admin('POST', '/api/v1/tokens', { kind: 'publish', topics: ['health'] });
    expect([res.status, res.body.error.code]).toEqual([400, 'reserved_topic']);
    expect((await daemon.gateway('GET', '/ca.crt')).status).toBe(200);
    expect((await daemon.gateway('GET', '/')).status).toBe(200);
    // The phone app's files and folders on the gateway are never taken for topics.
    for (const file of ['/sw.js', '/manifest.webmanifest', '/trust.html', '/icons/icon.svg', '/js/backoff.js']) {
      expect([file, (await daemon.gateway('GET', file)).status]).toEqual([file, 200]);
    }
    expect((await daemon.gateway('GET', '/icons/json?poll=1')).status).toBe(404);
  });

  test('compat publishes are sealed at rest like any notification; backlogs still read them', async () => {
    const marker = 'NtfyAtRestMarker7731';
    await send('POST', admin('/alerts'), `${marker} body`, { ...bearer(pub), Title: `${marker} title`, Tags: 'atrestmarkertag' });
    const poll = await HttpStream.open(admin('/alerts/json?poll=1&since=all'), bearer(sub));
    await until(() => poll.ended, 'poll end');
    expect(poll.json).toContainEqual(message({ topic: 'alerts', title: `${marker} title`, message: `${marker} body`, tags: ['atrestmarkertag'] }));
    const files = ['beep.db', 'beep.db-wal'].filter((f) => fs.existsSync(path.join(daemon.dataDir, f)));
    const bytes = Buffer.concat(files.map((f) => fs.readFileSync(path.join(daemon.dataDir, f))));
    expect(bytes.includes(marker)).toBe(false);
    expect(bytes.includes('atrestmarkertag')).toBe(false);
  });

  test('a phone paired with topics receives only those topics (and untopiced notifications)', async () => {
    const code = await daemon.admin('POST', '/api/v1/pairings');
    const paired = await daemon.gateway<any>('POST', '/api/v1/pair', { code: code.body.code, name: 'picky', platform: 'test', topics: ['alerts'] });
    expect(paired.status).toBe(201);
    const phone = new Phone(paired.body);
    await phone.connect(daemon);
    await send('POST', admin('/backups'), 'not for the phone', bearer(pub));
    await send('POST', admin('/alerts'), 'for the phone', bearer(pub));
    await daemon.admin('POST', '/api/v1/notifications', { title: 'untopiced' });
    await phone.waitFor(() => phone.unique.size === 2, 10_000, 'two notifications');
    expect([...phone.unique.values()].map((n) => [n.topic, n.body || n.title])).toEqual([['alerts', 'for the phone'], [null, 'untopiced']]);
    // The socket event changes the filter; the admin list shows it.
    await new Promise((resolve) => phone.socket!.emit('topics', { topics: ['backups'] }, resolve));
    await send('POST', admin('/backups'), 'now wanted', bearer(pub));
    await phone.waitFor(() => phone.unique.size === 3, 10_000, 'the third');
    const devices = (await daemon.admin('GET', '/api/v1/devices')).body;
    expect(devices.find((d: { name: string }) => d.name === 'picky').topics).toEqual(['backups']);
    expect(devices.find((d: { name: string }) => d.name === 'picky').pending).toBe(0);
    phone.disconnect();
    await phone.waitFor(() => phone.disconnectReason !== undefined, 5_000, 'disconnect');
    // Offline, its pending count counts only what its filter lets through.
    await send('POST', admin('/alerts'), 'filtered out while away', bearer(pub));
    await send('POST', admin('/backups'), 'owed while away', bearer(pub));
    await daemon.admin('POST', '/api/v1/notifications', { title: 'untopiced while away' });
    let offline: { online: boolean; pending: number } | undefined;
    for (let i = 0; i < 50; i++) {
      offline = (await daemon.admin('GET', '/api/v1/devices')).body.find((d: { name: string }) => d.name === 'picky');
      if (offline && !offline.online) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(offline).toMatchObject({ online: false, pending: 2 });
    const plain = await pair(daemon, 'everything');
    expect(plain.deviceId).toBeTruthy();
  });
});
