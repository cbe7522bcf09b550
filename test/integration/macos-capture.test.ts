import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { FakeNotificationCentre } from '../helpers/macos-db';
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
});
