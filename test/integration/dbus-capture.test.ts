import * as dbus from 'dbus-next';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { FakeNotificationServer, notifySend, PrivateBus, sendNotify } from '../helpers/dbus-session';
import { Phone } from '../helpers/phone';

// Linux capture against a real, private dbus-daemon: the daemon starts before the bus exists
// (runs without capture, says so), attaches when the bus appears, mirrors notify-send and raw
// D-Bus Notify calls to a paired phone, turns replaces_id into a replacement, closes on the
// desktop what the phone dismissed and dismisses on the phone what the desktop closed, and
// survives the bus going away and coming back.

async function dbusStatus(daemon: RunningDaemon): Promise<{ status: string; dbus: { state: string; reason?: string } }> {
  const res = await daemon.admin('GET', '/health/detailed');
  return res.body.checks.sources;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('D-Bus capture on a private session bus', () => {
  const bus = new PrivateBus(tempDir('beep-bus-'));
  let server: FakeNotificationServer;
  let daemon: RunningDaemon;
  let phone: Phone;

  beforeAll(async () => {
    daemon = await startDaemon({
      // Health is read for source state changes: no caching of the report.
      config: { sources: { dbus: { enabled: true, address: bus.address, retrySec: 0.2 } }, health: { cacheTtlMs: 0 } },
      env: { BEEP_LOG_LEVEL: 'info' },
    });
    phone = await Phone.paired(daemon, 'desk phone');
    await phone.connect(daemon);
  });
  afterAll(async () => {
    phone?.disconnect();
    await daemon?.stop();
    server?.stop();
    await bus.stop();
  });

  test('without a bus the daemon runs and says so; it attaches when the bus appears', async () => {
    const before = await dbusStatus(daemon);
    expect(before.dbus).toMatchObject({ state: 'waiting', reason: expect.stringContaining('no session bus socket') });
    expect(before.status).toBe('degraded'); // the address was configured explicitly
    expect(daemon.logs()).toContain('running without D-Bus capture');

    await bus.start();
    server = await FakeNotificationServer.start(bus.address);
    await until('attach', async () => (await dbusStatus(daemon)).dbus.state === 'attached');
    expect((await dbusStatus(daemon)).status).toBe('ok');
  });

  test('notify-send arrives with its fields and urgency as priority', async () => {
    await notifySend(bus.address, [
      '-a', 'Mail', '-u', 'critical', '-c', 'email.arrived', '-i', 'mail-unread',
      '-h', 'string:desktop-entry:org.gnome.Evolution', 'New mail', 'From <b>Ann</b> &amp; Bob',
    ]);
    await phone.waitFor(() => [...phone.unique.values()].some((n) => n.title === 'New mail'), 10_000, 'notify-send');
    const n = [...phone.unique.values()].find((x) => x.title === 'New mail')!;
    expect(n).toMatchObject({
      title: 'New mail',
      body: 'From Ann & Bob',
      app: 'Mail',
      priority: 5,
      tags: ['email.arrived'],
      icon: 'mail-unread',
      source: 'dbus',
    });
    expect(n.replaces).toBeUndefined();
    expect(server.received.some((r) => r.summary === 'New mail')).toBe(true); // the desktop still shows it

    await notifySend(bus.address, ['-a', 'Backup', '-u', 'low', 'Backup done']);
    await phone.waitFor(() => [...phone.unique.values()].some((n) => n.title === 'Backup done'), 10_000, 'low urgency');
    expect([...phone.unique.values()].find((x) => x.title === 'Backup done')).toMatchObject({ app: 'Backup', priority: 2 });
  });

  test('a D-Bus client Notify arrives; its replaces_id update replaces it on the phone', async () => {
    const desktopId = await sendNotify(bus.address, {
      app: 'Transfer',
      summary: 'Copying 1 of 3',
      body: 'report.pdf',
      hints: { urgency: new dbus.Variant('y', 1), category: new dbus.Variant('s', 'transfer') },
    });
    await phone.waitFor(() => [...phone.current.values()].some((n) => n.title === 'Copying 1 of 3'), 10_000, 'first');
    const first = [...phone.current.values()].find((n) => n.title === 'Copying 1 of 3')!;
    expect(first).toMatchObject({ app: 'Transfer', body: 'report.pdf', priority: 3, tags: ['transfer'], source: 'dbus' });

    await sendNotify(bus.address, { app: 'Transfer', summary: 'Copying 2 of 3', replacesId: desktopId });
    await phone.waitFor(() => [...phone.current.values()].some((n) => n.title === 'Copying 2 of 3'), 10_000, 'update');
    const second = [...phone.current.values()].find((n) => n.title === 'Copying 2 of 3')!;
    expect(second.replaces).toBe(first.id);
    expect(phone.current.has(first.id)).toBe(false);
    expect([...phone.current.values()].filter((n) => n.app === 'Transfer')).toHaveLength(1);

    // A phone that connects later gets only the latest version.
    const late = await Phone.paired(daemon, 'late phone');
    await sendNotify(bus.address, { app: 'Transfer', summary: 'Copying 3 of 3', replacesId: desktopId });
    await phone.waitFor(() => [...phone.current.values()].some((n) => n.title === 'Copying 3 of 3'), 10_000, 'third');
    await late.connect(daemon);
    await late.sentinel(daemon);
    expect([...late.unique.values()].map((n) => n.title)).toEqual(['Copying 3 of 3', 'sentinel']);
    late.disconnect();
  });

  test('a phone dismiss closes it on the desktop; a desktop close dismisses it on the phone', async () => {
    const closeMeId = await sendNotify(bus.address, { app: 'Chat', summary: 'Dismiss me on the phone' });
    const closedOnDesk = await sendNotify(bus.address, { app: 'Chat', summary: 'Closed on the desktop' });
    const expired = await sendNotify(bus.address, { app: 'Chat', summary: 'Expires on the desktop' });
    const lastClosed = await sendNotify(bus.address, { app: 'Chat', summary: 'Closed last (sentinel)' });
    const titles = ['Dismiss me on the phone', 'Closed on the desktop', 'Expires on the desktop', 'Closed last (sentinel)'];
    await phone.waitFor(() => titles.every((t) => [...phone.current.values()].some((n) => n.title === t)), 10_000, 'four chats');
    const byTitle = (t: string) => [...phone.unique.values()].find((n) => n.title === t)!;

    expect(await phone.dismiss(byTitle('Dismiss me on the phone').id)).toEqual({ ok: true });
    await until('CloseNotification', () => server.closeCalls.includes(closeMeId));

    server.emitClosed(closedOnDesk, 2);
    server.emitClosed(expired, 1); // expiry is not a dismissal: it stays on the phone
    server.emitClosed(lastClosed, 2); // signals are handled in order: once this one is dismissed, the expiry was handled too
    await phone.waitFor(() => phone.dismissed.includes(byTitle('Closed on the desktop').id), 10_000, 'desktop close');
    await phone.waitFor(() => phone.dismissed.includes(byTitle('Closed last (sentinel)').id), 10_000, 'the sentinel close');
    expect(phone.dismissed).not.toContain(byTitle('Expires on the desktop').id);
    expect(phone.current.has(byTitle('Expires on the desktop').id)).toBe(true);
    // Our own CloseNotification came back as NotificationClosed(reason 3): nothing sent twice.
    expect(phone.dismissed.filter((id) => id === byTitle('Dismiss me on the phone').id)).toHaveLength(0);
  });

  test('the bus going away and coming back is survived', async () => {
    server.stop();
    await bus.stop();
    await until('detach', async () => (await dbusStatus(daemon)).dbus.state === 'waiting');
    expect(daemon.logs()).toContain('lost the session bus');
    // The daemon still relays HTTP meanwhile.
    const posted = await daemon.admin('POST', '/api/v1/notifications', { title: 'still here' });
    expect(posted.status).toBe(202);

    await bus.start();
    server = await FakeNotificationServer.start(bus.address);
    await until('reattach', async () => (await dbusStatus(daemon)).dbus.state === 'attached');
    await notifySend(bus.address, ['-a', 'Mail', 'After the bus came back']);
    await phone.waitFor(() => [...phone.unique.values()].some((n) => n.title === 'After the bus came back'), 10_000, 'after reattach');
    expect(daemon.proc.exitCode).toBeNull();
  });
});
