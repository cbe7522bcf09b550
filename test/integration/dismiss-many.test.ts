import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// `dismiss {ids}` (the phone app's "clear all"): one event dismisses a whole list everywhere, as
// a swipe does for one; it spends one event of the socket's budget; it is bounded by the batch
// size; `dismiss {id}` is unchanged. The dashboard's live feed shows each dismissal.

jest.setTimeout(60_000);

/** A small batch size, so the bound is cheap to reach; a tight event budget, so "one event" is what passes. */
const CONFIG = { queue: { maxBatch: 16 }, rateLimits: { socketEventsPerSec: 1, socketEventBurst: 10 } };

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon({ config: CONFIG });
});

afterAll(async () => {
  await daemon?.stop();
});

async function post(n: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    const res = await daemon.admin('POST', '/api/v1/notifications', { id, title: `${prefix} ${i}`, app: 'cron' });
    expect(res.status).toBe(202);
    ids.push(id);
  }
  return ids;
}

function emitDismiss(phone: Phone, payload: unknown): Promise<any> {
  return new Promise((resolve) => phone.socket!.emit('dismiss', payload as never, resolve));
}

test('one `dismiss {ids}` clears a list on every device, within a budget that hundreds of single events would exceed', async () => {
  const a = await Phone.paired(daemon, 'clears');
  const b = await Phone.paired(daemon, 'watches');
  await a.connect(daemon);
  await b.connect(daemon);
  const ids = await post(14, 'clear'); // + a repeat + an unknown id = the batch size, 16
  await a.waitFor(() => ids.every((id) => a.unique.has(id)), 15_000, 'the list on A');
  await b.waitFor(() => ids.every((id) => b.unique.has(id)), 15_000, 'the list on B');

  const reply = await emitDismiss(a, { ids: [...ids, ids[0], 'never-sent'] });
  expect(reply.ok).toBe(true);
  expect([...reply.dismissed].sort()).toEqual([...ids].sort());
  await b.waitFor(() => ids.every((id) => b.dismissed.includes(id)), 15_000, 'B to hear every dismissal');
  expect(a.dismissed).toEqual([]); // the device that asked is not told back

  // Nothing is owed any more, to either device, and the history says dismissed.
  const history = (await daemon.admin('GET', '/api/v1/notifications?limit=50')).body as { id: string; dismissedAt: string | null }[];
  for (const id of ids) expect(history.find((n) => n.id === id)?.dismissedAt).toEqual(expect.any(String));
  // The dashboard's feed shows who dismissed them.
  const feed = (await daemon.admin('GET', '/api/v1/activity')).body as { id: string; dismissed?: { by: string } }[];
  for (const id of ids) expect(feed.find((e) => e.id === id)?.dismissed?.by).toBe('clears');

  // Again: already dismissed is not an error, just nothing dismissed now.
  expect(await emitDismiss(a, { ids })).toEqual({ ok: true, dismissed: [] });

  // The same clear as one event per id runs into the socket's event budget.
  const more = await post(16, 'singly');
  await b.waitFor(() => more.every((id) => b.unique.has(id)), 15_000, 'the second list on B');
  const replies = await Promise.all(more.map((id) => emitDismiss(b, { id })));
  expect(replies.filter((r) => r.error?.code === 'rate_limited').length).toBeGreaterThan(0);
  a.disconnect();
  b.disconnect();
});

test('bounded by the batch size; malformed lists refused; `{id}` answers as before', async () => {
  const phone = await Phone.paired(daemon, 'bounds');
  await phone.connect(daemon);
  const [one] = await post(1, 'single');
  await phone.waitFor(() => phone.unique.has(one), 15_000, 'the notification');
  const tooMany = Array.from({ length: 17 }, (_, i) => `x${i}`);
  expect(await emitDismiss(phone, { ids: tooMany })).toEqual({ error: { code: 'too_many_ids', message: expect.any(String), max: 16 } });
  for (const bad of [{ ids: [] }, { ids: 'a' }, { ids: [1, 2] }, { ids: ['ok', 'not ok'] }, {}, null]) {
    expect((await emitDismiss(phone, bad)).error.code).toBe('invalid_id');
  }
  expect(await emitDismiss(phone, { id: one })).toEqual({ ok: true });
  expect((await emitDismiss(phone, { id: one })).error.code).toBe('not_found');
  phone.disconnect();
});
