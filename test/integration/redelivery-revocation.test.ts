import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// Unacknowledged batches come back (on reconnect, and after the redelivery timeout); a
// revoked device is cut off within a second and its tokens stop working; dismissals fan out.

const REDELIVER_MS = 600;

async function send(daemon: RunningDaemon, title: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await daemon.admin('POST', '/api/v1/notifications', { title, ...extra });
  expect(res.status).toBe(202);
  return res.body.id;
}

describe('redelivery, revocation, dismissal', () => {
  let daemon: RunningDaemon;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { queue: { redeliverAfterMs: REDELIVER_MS } } });
  });
  afterAll(async () => {
    await daemon.stop();
  });

  test('a batch taken without ack is sent again after the phone drops and reconnects', async () => {
    const phone = await Phone.paired(daemon, 'dropper');
    phone.ackPolicy = 'none';
    await phone.connect(daemon);
    const ids = [await send(daemon, 'one'), await send(daemon, 'two', { priority: 5 })];
    await phone.waitFor(() => ids.every((id) => phone.unique.has(id)), 5_000, 'first delivery');
    phone.disconnect();

    const again = new Phone(phone.credentials);
    await again.connect(daemon);
    await again.waitFor(() => ids.every((id) => again.unique.has(id)), 5_000, 'redelivery on reconnect');
    // Urgent first on resume.
    expect(again.arrivals[0].id).toBe(ids[1]);
    await again.sentinel(daemon); // sent after the acks of both, so they were settled first
    again.disconnect();

    // Acknowledged now: a third connection gets nothing of them.
    const third = new Phone(phone.credentials);
    await third.connect(daemon);
    await third.sentinel(daemon);
    third.disconnect();
    expect(ids.filter((id) => third.unique.has(id))).toEqual([]);
  });

  test('a batch without ack is redelivered on the same socket after the timeout; a partial ack resends the rest', async () => {
    const phone = await Phone.paired(daemon, 'partial');
    let first = true;
    phone.ackPolicy = (items) => {
      if (!first) return items.map((n) => n.id);
      first = false;
      return items.slice(0, 1).map((n) => n.id); // ack only the first of the first batch
    };
    // Posted while the phone is away, so the three leave together as the resume backlog.
    const ids = await Promise.all(['a', 'b', 'c'].map((t) => send(daemon, `partial ${t}`)));
    await phone.connect(daemon);
    await phone.waitFor(() => ids.every((id) => phone.unique.has(id)), 5_000, 'first delivery');
    expect(phone.batches[0]).toHaveLength(3);
    await phone.waitFor(() => phone.arrivals.length >= ids.length + 2, 5_000, 'resend of the unacked two');
    const counts = new Map<string, number>();
    for (const n of phone.arrivals) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
    const resent = ids.filter((id) => counts.get(id) === 2);
    expect(resent).toHaveLength(2);

    // Silence: a phone that never acks sees the batch again after REDELIVER_MS.
    phone.ackPolicy = 'none';
    const late = await send(daemon, 'never acked');
    await phone.waitFor(() => phone.arrivals.filter((n) => n.id === late).length >= 2, REDELIVER_MS * 5, 'timeout redelivery');
    phone.disconnect();
  });

  test('dismiss on one phone reaches the others, live and after reconnecting', async () => {
    const a = await Phone.paired(daemon, 'dismisser');
    const b = await Phone.paired(daemon, 'watcher');
    const c = await Phone.paired(daemon, 'sleeper');
    await a.connect(daemon);
    await b.connect(daemon);
    const id = await send(daemon, 'dismiss me');
    await a.waitFor(() => a.unique.has(id));
    await b.waitFor(() => b.unique.has(id));
    expect(await a.dismiss(id)).toEqual({ ok: true });
    await b.waitFor(() => b.dismissed.includes(id), 2_000, 'dismissed on b');
    expect(a.dismissed).not.toContain(id);
    expect(await a.dismiss(id)).toEqual({ error: expect.objectContaining({ code: 'not_found' }) });
    expect(await a.dismiss('../etc')).toEqual({ error: expect.objectContaining({ code: 'invalid_id' }) });

    // c was offline: it is told about the dismissal and never shown the notification.
    await c.connect(daemon);
    await c.waitFor(() => c.dismissed.includes(id), 2_000, 'dismissed on c');
    expect(c.unique.has(id)).toBe(false);
    for (const p of [a, b, c]) p.disconnect();
    const history = await daemon.admin('GET', '/api/v1/notifications?limit=5');
    expect(history.body.find((n: { id: string }) => n.id === id).dismissedAt).toEqual(expect.any(String));
  });

  test('revoking a device closes its socket within 1 s and kills its tokens', async () => {
    const phone = await Phone.paired(daemon, 'to revoke');
    await phone.connect(daemon);
    const devices = await daemon.admin('GET', '/api/v1/devices');
    const mine = devices.body.find((d: { id: string }) => d.id === phone.credentials.deviceId);
    expect(mine).toMatchObject({ name: 'to revoke', online: true, pending: 0 });

    const started = Date.now();
    const res = await daemon.admin('DELETE', `/api/v1/devices/${phone.credentials.deviceId}`);
    expect(res.status).toBe(204);
    await phone.waitFor(() => phone.disconnectReason !== undefined, 1_000, 'socket closed');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(phone.revoked).toBe(true);

    await expect(new Phone(phone.credentials).connect(daemon)).rejects.toMatchObject({ code: 'device_revoked' });
    const refresh = await daemon.gateway('POST', '/api/v1/token', { refreshToken: phone.credentials.refreshToken });
    expect(refresh.status).toBe(401);
    const after = await daemon.admin('GET', '/api/v1/devices');
    expect(after.body.map((d: { id: string }) => d.id)).not.toContain(phone.credentials.deviceId);
    expect((await daemon.admin('DELETE', `/api/v1/devices/${phone.credentials.deviceId}`)).status).toBe(404);
  });

  test('a device paired later is not owed what came before it; pending counts offline backlog', async () => {
    await send(daemon, 'before pairing');
    const phone = await Phone.paired(daemon, 'latecomer');
    const later = await send(daemon, 'after pairing');
    const devices = await daemon.admin('GET', '/api/v1/devices');
    expect(devices.body.find((d: { id: string }) => d.id === phone.credentials.deviceId)).toMatchObject({ online: false, pending: 1 });
    await phone.connect(daemon);
    await phone.waitFor(() => phone.unique.has(later));
    await phone.sentinel(daemon);
    phone.disconnect();
    expect([...phone.unique.values()].map((n) => n.title)).toEqual(['after pairing', 'sentinel']);
  });
});
