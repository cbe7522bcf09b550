import path from 'node:path';
import Database from 'better-sqlite3';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone, pair } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, HttpStream, send, until } from '../../helpers/compat';
import { answerTo, RealClients, valueOf } from '../../helpers/real-clients';
import type { WireNotification } from '../../../app/domain/notification';

// ntfy `Cache: no` (X-Cache / Cache / ?cache=no, JSON cache, the ntfy package's disableCache,
// @cityssm's cache: false): stored sealed like any notification (accepted means stored), owed
// only to the devices and subscribers connected at acceptance, kept out of every history (ntfy
// poll and since=, Gotify's listing, the admin history), and deleted once those devices have
// acked it (or at once when none was connected).

let daemon: RunningDaemon;
let clients: RealClients;
let phone: Phone;
let pub: string;

beforeAll(async () => {
  daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS } });
  clients = RealClients.for(daemon);
  pub = (await createToken(daemon, 'publish', undefined, 'scripts')).token;
  phone = await Phone.paired(daemon, 'connected phone');
  await phone.connect(daemon);
});

afterAll(async () => {
  phone?.disconnect();
  await daemon?.stop();
});

function onPhone(p: Phone, body: string, timeoutMs = 15_000): Promise<WireNotification> {
  return p.withBody(body, timeoutMs);
}

async function polled(topic: string): Promise<any[]> {
  const reader = (await createToken(daemon, 'subscribe', [topic])).token;
  const stream = await HttpStream.open(`${daemon.gatewayUrl}/${topic}/json?poll=1&since=all`, { authorization: `Bearer ${reader}` }, daemon.caPem);
  await until(() => stream.ended, 'the poll to end', 15_000);
  return stream.json;
}

/** Rows of the uncached table, read from the database file (read-only, WAL). */
function uncachedRows(): number {
  const db = new Database(path.join(daemon.dataDir, 'beep.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM uncached_notifications').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function storedById(id: string): Promise<boolean> {
  const db = new Database(path.join(daemon.dataDir, 'beep.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT 1 FROM notifications WHERE id = ?').get(id) !== undefined;
  } finally {
    db.close();
  }
}

describe('Cache: no', () => {
  test('the ntfy package\'s disableCache: a connected phone and a live subscriber get it; no poll, since=, Gotify listing or admin history shows it', async () => {
    const reader = (await createToken(daemon, 'subscribe', ['nocache'])).token;
    const live = await HttpStream.open(`${daemon.gatewayUrl}/nocache/json`, { authorization: `Bearer ${reader}` }, daemon.caPem);
    await until(() => live.json.length > 0, 'the open event');
    const body = 'not cached';
    const answer = valueOf(await clients.ntfy({ server: daemon.gatewayUrl, topic: 'nocache', message: body, authorization: { username: 'me', password: pub }, disableCache: true }));
    expect(answer).toMatchObject({ event: 'message', topic: 'nocache', message: body });
    await onPhone(phone, body);
    await until(() => live.json.some((m) => m.id === answer.id), 'the live subscriber to get it');
    live.close();
    const cached = await send('POST', `${daemon.adminUrl}/nocache`, 'cached', { authorization: `Bearer ${pub}` });
    expect((await polled('nocache')).map((m) => m.id)).toEqual([cached.body.id]);
    const client = (await createToken(daemon, 'subscribe')).token;
    const gotify = await send('GET', `${daemon.gatewayUrl}/message?limit=200`, undefined, { 'x-gotify-key': client }, daemon.caPem);
    expect(gotify.status).toBe(200);
    expect(gotify.body.messages.map((m: { message: string }) => m.message)).not.toContain(body);
    const history = await daemon.admin('GET', '/api/v1/notifications?limit=200');
    expect(JSON.stringify(history.body)).not.toContain(answer.id);
  });

  test('@cityssm/ntfy-publish cache: false (token through ?auth=): 200, on the phone, polls do not list it', async () => {
    const body = 'cityssm not cached';
    const token = Buffer.from(`Bearer ${pub}`).toString('base64url');
    const run = await clients.ntfyPublish({ server: daemon.gatewayUrl, topic: `nocache2?auth=${token}`, message: body, cache: false });
    expect(answerTo(run, 'POST', '/nocache2')?.status).toBe(200);
    expect(valueOf(run)).toBe(true);
    await onPhone(phone, body);
    expect(await polled('nocache2')).toEqual([]);
  });

  test('owed only to the devices connected at acceptance: one that connects later never gets it', async () => {
    const away = await Phone.paired(daemon, 'away phone');
    try {
      const res = await send('POST', `${daemon.adminUrl}/nocache3?cache=no`, 'only for the connected', { authorization: `Bearer ${pub}` });
      expect(res.status).toBe(200);
      await onPhone(phone, 'only for the connected');
      await away.connect(daemon);
      const sentinel = await send('POST', `${daemon.adminUrl}/nocache3`, 'after it', { authorization: `Bearer ${pub}` });
      expect(sentinel.status).toBe(200);
      await onPhone(away, 'after it');
      expect([...away.unique.values()].map((n) => n.body)).not.toContain('only for the connected');
    } finally {
      away.disconnect();
      // Revoked, it is owed nothing (the next test counts what is left to delete).
      expect((await daemon.admin('DELETE', `/api/v1/devices/${away.credentials.deviceId}`)).status).toBeLessThan(300);
    }
  });

  test('not in the history a newly paired phone is shown', async () => {
    // Held by a phone that does not ack, so it is still stored when the new phone pairs.
    const holder = await Phone.paired(daemon, 'holder');
    holder.ackPolicy = 'none';
    await holder.connect(daemon);
    const uncached = await send('POST', `${daemon.adminUrl}/nocache5`, 'not history', { authorization: `Bearer ${pub}`, Cache: 'no' });
    const cached = await send('POST', `${daemon.adminUrl}/nocache5`, 'history', { authorization: `Bearer ${pub}` });
    expect([uncached.status, cached.status]).toEqual([200, 200]);
    await onPhone(holder, 'not history');
    await onPhone(phone, 'history');
    const fresh = new Phone(await pair(daemon, 'history phone', { history: true }));
    try {
      expect(await storedById(uncached.body.id)).toBe(true);
      await fresh.connect(daemon);
      await fresh.waitFor(() => fresh.history.length === 1, 10_000, 'the history event');
      const ids = fresh.history[0].map((n) => n.id);
      expect(ids).toContain(cached.body.id);
      expect(ids).not.toContain(uncached.body.id);
    } finally {
      fresh.disconnect();
      holder.disconnect();
      for (const p of [fresh, holder]) expect((await daemon.admin('DELETE', `/api/v1/devices/${p.credentials.deviceId}`)).status).toBeLessThan(300);
    }
  });

  test('deleted once the devices it was owed to have acked it; at once when none was connected', async () => {
    const res = await send('POST', `${daemon.adminUrl}/nocache4`, 'purge me', { authorization: `Bearer ${pub}`, 'X-Cache': 'no' });
    expect(res.status).toBe(200);
    await onPhone(phone, 'purge me');
    await until(() => uncachedRows() === 0, `the acked one to be deleted (${debugRows()})`, 15_000);
    expect(await storedById(res.body.id)).toBe(false);
    phone.disconnect();
    try {
      const nobody = await send('POST', `${daemon.adminUrl}/`, JSON.stringify({ topic: 'nocache4', message: 'nobody connected', cache: 'no' }), { authorization: `Bearer ${pub}` });
      expect(nobody.status).toBe(200);
      await until(() => uncachedRows() === 0, 'the unowed one to be deleted', 15_000);
      expect(await storedById(nobody.body.id)).toBe(false);
    } finally {
      await phone.connect(daemon);
    }
    expect([...phone.unique.values()].map((n) => n.body)).not.toContain('nobody connected');
  });
});

/** What is left of the uncached tables and progress, for a failure message. */
function debugRows(): string {
  const db = new Database(path.join(daemon.dataDir, 'beep.db'), { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify({
      u: db.prepare('SELECT u.seq, n.priority, n.dismissed_at FROM uncached_notifications u JOIN notifications n ON n.seq = u.seq').all(),
      o: db.prepare('SELECT * FROM uncached_owed').all(),
      p: db.prepare('SELECT * FROM device_priority_progress').all(),
      d: db.prepare('SELECT id, revoked_at FROM devices').all(),
    });
  } finally {
    db.close();
  }
}
