import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { FakeNotificationCentre } from '../helpers/macos-db';
import { parseMetrics, value } from '../helpers/metrics';
import { Phone } from '../helpers/phone';

// The macOS source against a notification centre database the test builds in macOS's format
// (SQLite tables app/record, binary-plist records); the database is the only mocked part,
// since the notification centre itself cannot run here. The source reads nothing macOS-only.

describe('macOS capture from the notification centre database', () => {
  const dir = tempDir('beep-nc-');
  const file = path.join(dir, 'db');
  let centre: FakeNotificationCentre;
  let daemon: RunningDaemon;

  afterAll(async () => {
    await daemon?.stop();
    centre?.close();
  });

  test('waits for the database, skips history, relays new records, dismisses cleared ones', async () => {
    daemon = await startDaemon({
      config: { sources: { dbus: { enabled: false }, macos: { enabled: true, database: file, pollSec: 0.1 } }, health: { cacheTtlMs: 0 } },
    });
    const health = async () => (await daemon.admin('GET', '/health/detailed')).body.checks.sources;
    expect((await health()).macos).toMatchObject({ state: 'waiting', reason: expect.stringContaining('no notification database') });
    expect((await health()).dbus).toMatchObject({ state: 'disabled' });

    centre = new FakeNotificationCentre(file);
    centre.post('com.apple.Mail', { titl: 'Old mail', body: 'already there before Beep attached' });
    const deadline = Date.now() + 10_000;
    while ((await health()).macos.state !== 'attached' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await health()).macos.state).toBe('attached');

    const phone = await Phone.paired(daemon);
    await phone.connect(daemon);
    const sms = centre.post('com.apple.MobileSMS', { titl: 'Ann', subt: 'Dinner', body: 'At 8? 🍝' });
    centre.insert(1, Buffer.from('bplist00 but broken'));
    centre.post('com.apple.Mail', { titl: 'New mail', body: 'hello' });
    await phone.waitFor(() => phone.unique.size >= 2, 10_000, 'two records');
    const items = [...phone.unique.values()];
    expect(items.map((n) => n.title)).toEqual(['Ann', 'New mail']);
    expect(items[0]).toMatchObject({ app: 'com.apple.MobileSMS', body: 'Dinner\nAt 8? 🍝', source: 'macos', priority: 3 });
    expect(daemon.proc.exitCode).toBeNull();

    centre.remove(sms);
    await phone.waitFor(() => phone.dismissed.includes(items[0].id), 10_000, 'cleared in the notification centre');
    expect(phone.current.has(items[1].id)).toBe(true);
    phone.disconnect();
  });

  test('a reused rec_id is a new record; a restart resumes at the saved position (nothing re-read, nothing missed)', async () => {
    const phone = await Phone.paired(daemon);
    await phone.connect(daemon);
    const titled = (title: string) => [...phone.unique.values()].filter((n) => n.title === title);

    // The newest record cleared: SQLite hands its rec_id to the next one, which must still be seen.
    const newest = centre.post('com.apple.Mail', { titl: 'Newest, then cleared', body: '1' });
    await phone.waitFor(() => titled('Newest, then cleared').length === 1, 10_000, 'the newest record');
    centre.remove(newest);
    expect(centre.post('com.apple.Mail', { titl: 'Took its number', body: '2' })).toBe(newest);
    await phone.waitFor(() => titled('Took its number').length === 1, 10_000, 'the record with a reused rec_id');
    await phone.waitFor(() => phone.dismissed.includes(titled('Newest, then cleared')[0].id), 10_000, 'the cleared record dismissed');

    centre.post('com.apple.Mail', { titl: 'Before the restart', body: '3' });
    await phone.waitFor(() => titled('Before the restart').length === 1, 10_000, 'the record before the restart');
    phone.disconnect();
    await daemon.stop();
    centre.post('com.apple.MobileSMS', { titl: 'While Beep was down', body: 'one' });
    centre.post('com.apple.MobileSMS', { titl: 'While Beep was down', body: 'two' });
    daemon = await daemon.restart();
    await phone.connect(daemon);
    await phone.waitFor(() => titled('While Beep was down').length === 2, 15_000, 'the records from the downtime');
    await phone.sentinel(daemon);
    const metrics = parseMetrics((await daemon.admin('GET', '/metrics')).text);
    expect(value(metrics, 'beep_notifications_ingested_total', { source: 'macos' })).toBe(2); // the earlier ones were not read again
    expect(titled('While Beep was down').map((n) => n.body).sort()).toEqual(['one', 'two']);
    phone.disconnect();
  });
});
