import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, HttpStream, send, until } from '../../helpers/compat';
import { answerTo, RealClients, valueOf } from '../../helpers/real-clients';
import type { WireNotification } from '../../../app/domain/notification';

// Scheduled delivery (ntfy's Delay/X-Delay/At/In headers, the query parameters and JSON
// `delay`; docs/publish.md "Scheduled delivery"): accepted at once with ntfy's answer (its
// future `time`), kept in their own table, given a seq only when due, then delivered like any
// notification; listed and cancelled with `beep scheduled`; surviving kill -9. Times are
// asserted on what the server recorded (the notification's createdAt is when it was given its
// seq and handed to delivery), never on the test's own sleeps. compat.ntfy.minDelaySec is 1 here.

const MIN_DELAY_SEC = 1;
/** Due + this is the latest the server may send a scheduled notification (issue 13). */
const LATE_MS = 5_000;

let daemon: RunningDaemon;
let phone: Phone;
let clients: RealClients;
let pub: string;

beforeAll(async () => {
  daemon = await startDaemon({ config: { compat: { ntfy: { minDelaySec: MIN_DELAY_SEC } }, rateLimits: HAMMER_LIMITS } });
  clients = RealClients.for(daemon);
  pub = (await createToken(daemon, 'publish', undefined, 'scripts')).token;
  phone = await Phone.paired(daemon, 'scheduled phone');
  await phone.connect(daemon);
});

afterAll(async () => {
  phone?.disconnect();
  await daemon?.stop();
});

const auth = () => ({ authorization: `Bearer ${pub}` });

function onPhone(p: Phone, body: string, timeoutMs = 30_000): Promise<WireNotification> {
  return p.withBody(body, timeoutMs);
}

interface ScheduledView { id: string; dueAt: string; title: string; body: string; topic: string | null }

async function scheduledList(d: RunningDaemon): Promise<ScheduledView[]> {
  const result = await d.cli(['scheduled', 'list', '--json']);
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as ScheduledView[];
}

/** Sent no earlier than due and no later than due + 5 s, by the server's recorded time. */
function expectOnTime(n: WireNotification, dueMs: number): void {
  const sentMs = Date.parse(n.createdAt);
  expect(sentMs).toBeGreaterThanOrEqual(dueMs);
  expect(sentMs).toBeLessThanOrEqual(dueMs + LATE_MS);
}

async function polled(d: RunningDaemon, topic: string): Promise<any[]> {
  const reader = (await createToken(d, 'subscribe', [topic])).token;
  const stream = await HttpStream.open(`${d.gatewayUrl}/${topic}/json?poll=1&since=all`, { authorization: `Bearer ${reader}` }, d.caPem);
  await until(() => stream.ended, 'the poll to end', 15_000);
  return stream.json;
}

describe('publishing with a delay', () => {
  test('the ntfy package\'s delay: accepted at once with its future time, on the phone no earlier than due', async () => {
    const body = 'in ten seconds';
    const before = Date.now();
    const answer = valueOf(await clients.ntfy({ server: daemon.gatewayUrl, topic: 'alerts', message: body, authorization: { username: 'me', password: pub }, delay: '10s' }));
    expect(answer).toMatchObject({ event: 'message', topic: 'alerts', message: body });
    expect(answer.time * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 10_000);
    const listed = ((await daemon.admin('GET', '/api/v1/scheduled')).body as ScheduledView[]).find((s) => s.body === body)!;
    expect(listed).toMatchObject({ id: answer.id, topic: 'alerts', title: 'alerts' });
    const n = await onPhone(phone, body);
    expect(n.id).toBe(answer.id);
    expectOnTime(n, Date.parse(listed.dueAt));
  });

  // The ntfy package's README "advanced example" as far as ntfy itself accepts it (no broadcast
  // action, no e-mail, the cache left on; its http action without the bare-term body), with 10 s.
  test('the ntfy package\'s advanced example, as far as ntfy accepts it: accepted, arrives once due with both buttons', async () => {
    const body = 'Remote access to device detected. Act right away.';
    const run = await clients.ntfy({
      actions: [
        { clear: false, headers: { Authorization: 'Bearer zAzsx1sk..' }, label: 'Close door', method: 'PUT', type: 'http', url: 'https://api.mygarage.lan' },
        { clear: true, label: 'Open portal', type: 'view', url: 'https://api.nest.com/' },
      ],
      authorization: { username: 'me', password: pub },
      clickURL: 'https://github.com/ffflorian/',
      delay: '10s',
      disableFirebase: true,
      iconURL: 'https://avatars.githubusercontent.com/ffflorian',
      message: body,
      priority: 5,
      server: daemon.gatewayUrl,
      tags: ['warning', 'skull'],
      title: 'Unauthorized access detected',
      topic: 'mytopic',
    });
    const answer = valueOf(run);
    expect(answer).toMatchObject({
      event: 'message', topic: 'mytopic', title: 'Unauthorized access detected', priority: 5,
      actions: [
        { action: 'http', label: 'Close door', url: 'https://api.mygarage.lan', method: 'PUT', clear: false },
        { action: 'view', label: 'Open portal', url: 'https://api.nest.com/', clear: true },
      ],
    });
    const listed = ((await daemon.admin('GET', '/api/v1/scheduled')).body as ScheduledView[]).find((s) => s.id === answer.id)!;
    const n = await onPhone(phone, body);
    expectOnTime(n, Date.parse(listed.dueAt));
    expect(n).toMatchObject({ priority: 5, actions: [{ action: 'http', label: 'Close door' }, { action: 'view', label: 'Open portal', url: 'https://api.nest.com/' }] });
  });

  test('every way ntfy documents: X-Delay, Delay, At (Unix time), In, ?delay=, ?in=, JSON delay; each arrives on time', async () => {
    const url = (q = '') => `${daemon.adminUrl}/sched${q}`;
    const ways: [string, () => Promise<{ status: number; body: any }>][] = [
      ['x-delay', () => send('POST', url(), 'x-delay', { ...auth(), 'X-Delay': '2s' })],
      ['delay', () => send('PUT', url(), 'delay', { ...auth(), Delay: '3 seconds' })],
      ['at', () => send('POST', url(), 'at', { ...auth(), At: String(Math.floor(Date.now() / 1000) + 4) })],
      ['in', () => send('POST', url(), 'in', { ...auth(), In: '2s' })],
      ['query delay', () => send('POST', url('?delay=2s'), 'query delay', auth())],
      ['query in', () => send('POST', url('?in=1500ms'), 'query in', auth())],
      ['json', () => send('POST', `${daemon.adminUrl}/`, JSON.stringify({ topic: 'sched', message: 'json', delay: '2s' }), { ...auth(), 'content-type': 'application/json' })],
    ];
    const due = new Map<string, number>();
    for (const [body, post] of ways) {
      const before = Date.now();
      const res = await post();
      expect({ body, status: res.status }).toEqual({ body, status: 200 });
      expect(res.body).toMatchObject({ event: 'message', topic: 'sched', message: body });
      expect(res.body.time).toBeGreaterThan(Math.floor(before / 1000));
      // Its due time as the daemon recorded it (read at once over HTTP, before it can fall due).
      const listed = ((await daemon.admin('GET', '/api/v1/scheduled')).body as ScheduledView[]).find((s) => s.id === res.body.id);
      expect({ body, listed: listed?.body }).toEqual({ body, listed: body });
      due.set(body, Date.parse(listed!.dueAt));
    }
    for (const [body] of ways) expectOnTime(await onPhone(phone, body), due.get(body)!);
  });

  test('a scheduled one is given its seq when due: one published later but at once is before it in the topic\'s order; no history lists what waits', async () => {
    const hour = await send('POST', `${daemon.adminUrl}/order`, 'waits an hour', { ...auth(), In: '1h' });
    const later = await send('POST', `${daemon.adminUrl}/order`, 'scheduled first', { ...auth(), In: '4s' });
    const now = await send('POST', `${daemon.adminUrl}/order`, 'immediate second', auth());
    expect([hour.status, later.status, now.status]).toEqual([200, 200, 200]);
    expect((await polled(daemon, 'order')).map((m) => m.message)).not.toContain('waits an hour');
    await onPhone(phone, 'scheduled first');
    expect((await polled(daemon, 'order')).map((m) => m.message)).toEqual(['immediate second', 'scheduled first']);
    expect((await daemon.admin('DELETE', `/api/v1/scheduled/${hour.body.id}`)).status).toBe(204);
  });
});

describe('refusals, in ntfy\'s shape and codes', () => {
  test('unparsable (40004), too soon (40005), too far (40006)', async () => {
    const cases: [string, number][] = [['whenever you like', 40004], ['0s', 40005], ['4d', 40006], [String(Math.floor(Date.now() / 1000) + 4 * 86_400), 40006]];
    for (const [delay, code] of cases) {
      const res = await send('POST', `${daemon.adminUrl}/alerts`, `refused ${delay}`, { ...auth(), Delay: delay });
      expect({ delay, status: res.status, code: res.body.code, beep: res.body.beep_code }).toEqual({ delay, status: 400, code, beep: 'invalid_delay' });
    }
  });

  test('a file that would expire before its delayed delivery is refused as ntfy refuses it (40015); one that outlives it is scheduled', async () => {
    const file = Buffer.alloc(5000, 7);
    const tooLate = await send('PUT', `${daemon.adminUrl}/files`, file, { ...auth(), Filename: 'late.bin', In: '2d' });
    expect(tooLate.status).toBe(400);
    expect(tooLate.body).toMatchObject({ code: 40015, beep_code: 'invalid_attachment', error: 'invalid request: attachment expiry before delayed delivery date' });
    const soon = await send('PUT', `${daemon.adminUrl}/files`, file, { ...auth(), Filename: 'soon.bin', In: '1h' });
    expect(soon.status).toBe(200);
    expect(soon.body).toMatchObject({ attachment: { name: 'soon.bin' } });
    expect((await daemon.admin('DELETE', `/api/v1/scheduled/${soon.body.id}`)).status).toBe(204);
  });

  test('a delay with Cache: no is refused as ntfy refuses it (40002), by header and by the ntfy package', async () => {
    const res = await send('PUT', `${daemon.adminUrl}/alerts`, 'a message', { ...auth(), Cache: 'no', In: '30 min' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 40002, http: 400, error: 'cannot disable cache for delayed message', beep_code: 'delay_without_cache' });
    const run = await clients.ntfy({ server: daemon.gatewayUrl, topic: 'alerts', message: 'delayed, uncached', authorization: { username: 'me', password: pub }, delay: '10s', disableCache: true });
    expect(run).toMatchObject({ ok: false, error: { message: 'Error while publishing message: Bad Request' } });
    expect(answerTo(run, 'POST', '/alerts')?.body.error).toMatch(/cache/i);
    expect((await scheduledList(daemon)).filter((s) => s.body.startsWith('delayed, uncached') || s.body === 'a message')).toEqual([]);
  });
});

describe('beep scheduled list|cancel', () => {
  test('a cancelled one is never sent; the one scheduled after it is', async () => {
    // Due before the kept one, far enough ahead for a slow CLI: once the kept one arrives, the cancelled one would have.
    const cancelled = await send('POST', `${daemon.adminUrl}/cancel`, 'cancel me', { ...auth(), In: '8s' });
    const kept = await send('POST', `${daemon.adminUrl}/cancel`, 'keep me', { ...auth(), In: '9s' });
    expect([cancelled.status, kept.status]).toEqual([200, 200]);
    const result = await daemon.cli(['scheduled', 'cancel', cancelled.body.id]);
    expect(result.status).toBe(0);
    expect((await scheduledList(daemon)).map((s) => s.id)).not.toContain(cancelled.body.id);
    expect((await daemon.cli(['scheduled', 'cancel', cancelled.body.id])).status).not.toBe(0);
    await onPhone(phone, 'keep me');
    expect([...phone.unique.values()].some((n) => n.body === 'cancel me')).toBe(false);
    const text = await daemon.cli(['scheduled', 'list']);
    expect(text.stdout).not.toContain(cancelled.body.id);
  });

  test('revoking the API token that scheduled them drops them: a leaked token\'s messages stop with it', async () => {
    const leaked = await createToken(daemon, 'publish', undefined, 'leaked');
    const res = await send('POST', `${daemon.adminUrl}/revoked`, 'from a leaked token', { authorization: `Bearer ${leaked.token}`, In: '1h' });
    expect(res.status).toBe(200);
    expect((await scheduledList(daemon)).map((s) => s.id)).toContain(res.body.id);
    expect((await daemon.cli(['token', 'revoke', String(leaked.id)])).status).toBe(0);
    const deadline = Date.now() + 15_000;
    while ((await daemon.admin('GET', '/api/v1/scheduled')).body.some((s: ScheduledView) => s.id === res.body.id)) {
      if (Date.now() > deadline) throw new Error('the revoked token\'s scheduled notification was not dropped');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  test('the admin API lists and cancels (the dashboard\'s calls)', async () => {
    const res = await send('POST', `${daemon.adminUrl}/cancel`, 'api cancel', { ...auth(), In: '1h' });
    const list = await daemon.admin('GET', '/api/v1/scheduled');
    expect(list.body.find((s: ScheduledView) => s.id === res.body.id)).toMatchObject({ body: 'api cancel', topic: 'cancel', dueAt: expect.any(String) });
    expect((await daemon.admin('DELETE', `/api/v1/scheduled/${res.body.id}`)).status).toBe(204);
    expect((await daemon.admin('DELETE', `/api/v1/scheduled/${res.body.id}`)).status).toBe(404);
  });
});

describe('sealed at rest', () => {
  test('a waiting one\'s text is not in the database files; a key rotation re-seals it and it still opens', async () => {
    const marker = `secret-${Date.now().toString(36)}`;
    const res = await send('POST', `${daemon.adminUrl}/sealed`, `body ${marker}`, { ...auth(), Title: `title ${marker}`, In: '2h' });
    expect(res.status).toBe(200);
    const files = Buffer.concat(['beep.db', 'beep.db-wal'].map((f) => path.join(daemon.dataDir, f)).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
    expect(files.includes(Buffer.from(marker))).toBe(false);
    const rotate = await daemon.cli(['keys', 'rotate']);
    expect(rotate.status).toBe(0);
    const keyId = /rotating to data key (\S+)/.exec(rotate.stdout)![1];
    const db = new Database(path.join(daemon.dataDir, 'beep.db'), { readonly: true });
    const row = db.prepare('SELECT sealed FROM scheduled_notifications WHERE id = ?').get(res.body.id) as { sealed: string };
    db.close();
    expect(row.sealed.startsWith(`e1:${keyId}:`)).toBe(true);
    expect((await scheduledList(daemon)).find((s) => s.id === res.body.id)).toMatchObject({ title: `title ${marker}`, body: `body ${marker}` });
    expect((await daemon.cli(['scheduled', 'cancel', res.body.id])).status).toBe(0);
  });
});

describe('durable: kill -9', () => {
  test('scheduled before a kill -9: sent on time by the restarted daemon; one that fell due while it was down is sent at start', async () => {
    let d = await startDaemon({ config: { compat: { ntfy: { minDelaySec: MIN_DELAY_SEC } } } });
    const token = (await createToken(d, 'publish')).token;
    const p = await Phone.paired(d, 'kill -9 phone');
    try {
      const whileDown = await send('POST', `${d.adminUrl}/durable`, 'due while down', { authorization: `Bearer ${token}`, In: '2s' });
      const afterRestart = await send('POST', `${d.adminUrl}/durable`, 'due after restart', { authorization: `Bearer ${token}`, In: '20s' });
      expect([whileDown.status, afterRestart.status]).toEqual([200, 200]);
      const due = new Map(((await d.admin('GET', '/api/v1/scheduled')).body as ScheduledView[]).map((s) => [s.body, Date.parse(s.dueAt)]));
      await d.kill();
      // The first must fall due while nothing runs.
      await until(() => Date.now() > due.get('due while down')! + 500, 'the first due time to pass', 10_000);
      d = await d.restart();
      await p.connect(d);
      const down = await onPhone(p, 'due while down');
      expect(Date.parse(down.createdAt)).toBeGreaterThanOrEqual(due.get('due while down')!);
      expect(down.id).toBe(whileDown.body.id);
      const onTime = await onPhone(p, 'due after restart');
      expect(onTime.id).toBe(afterRestart.body.id);
      expectOnTime(onTime, due.get('due after restart')!);
      // The server's own record of sending it to this phone (the activity feed; sent, then acked) is within the bound too.
      const entry = ((await d.admin('GET', '/api/v1/activity')).body as { id: string; deliveries: { state: string; at: string }[] }[]).find((e) => e.id === onTime.id)!;
      expect(entry.deliveries).toHaveLength(1);
      expect(Date.parse(entry.deliveries[0].at)).toBeGreaterThanOrEqual(due.get('due after restart')!);
      expect(Date.parse(entry.deliveries[0].at)).toBeLessThanOrEqual(due.get('due after restart')! + LATE_MS);
      expect(await scheduledList(d)).toEqual([]);
      // Each was sent once.
      expect([...p.unique.values()].filter((n) => n.body.startsWith('due ')).map((n) => n.body).sort()).toEqual(['due after restart', 'due while down']);
    } finally {
      p.disconnect();
      await d.stop();
    }
  });
});
