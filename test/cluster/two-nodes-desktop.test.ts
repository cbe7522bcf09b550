import { FakeNotificationServer, PrivateBus, sendNotify } from '../helpers/dbus-session';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';
import { RedisServer } from '../helpers/redis-server';
import { joiningDataDir, nodeConfig } from './two-nodes';

// A phone's dismissal reaches the desktop of the node that captured the notification: A captures
// from a real (private) session bus with a fake notification server; the phone, paired through A,
// is connected to B; its dismiss on B travels as a control event to A, whose D-Bus source finds
// the desktop id (RedisDesktopIds answers only the capturing node) and calls CloseNotification.

jest.setTimeout(120_000);

const bus = new PrivateBus(tempDir('beep-bus-'));
let server: FakeNotificationServer;
let redis: RedisServer;
const nodes: RunningDaemon[] = [];

afterAll(async () => {
  for (const node of nodes) if (node.proc.exitCode === null) await node.kill();
  server?.stop();
  await bus.stop();
  await redis?.stop();
});

test('a notification captured on A, dismissed on a phone connected to B, is closed on A\'s desktop', async () => {
  await bus.start();
  server = await FakeNotificationServer.start(bus.address);
  redis = await RedisServer.start();
  const env = { BEEP_REDIS_URL: redis.url };
  const a = await startDaemon({ env, config: nodeConfig({ sources: { dbus: { enabled: true, address: bus.address, retrySec: 0.2 } } }) });
  nodes.push(a);
  const b = await startDaemon({ dataDir: joiningDataDir(a.dataDir), env, config: nodeConfig({ sources: { dbus: { enabled: false } } }) });
  nodes.push(b);
  const phone = await Phone.paired(a, 'phone on B');
  await phone.connect(b);
  // A attached to the bus once its health says so; the capture then reaches the phone on B.
  const attached = async () => (await a.admin('GET', '/health/detailed')).body.checks.sources.dbus.state === 'attached';
  for (const deadline = Date.now() + 20_000; !(await attached()); await new Promise((r) => setTimeout(r, 100))) if (Date.now() > deadline) throw new Error('A never attached to the bus');

  const desktopId = await sendNotify(bus.address, { app: 'Chat', summary: 'Dismiss me on B' });
  const keptId = await sendNotify(bus.address, { app: 'Chat', summary: 'Keep me' });
  await phone.waitFor(() => ['Dismiss me on B', 'Keep me'].every((t) => [...phone.unique.values()].some((n) => n.title === t)), 20_000, 'both captures on the phone');
  const captured = [...phone.unique.values()].find((n) => n.title === 'Dismiss me on B')!;
  expect(await phone.dismiss(captured.id)).toEqual({ ok: true });
  await phone.waitFor(() => server.closeCalls.includes(desktopId), 20_000, 'CloseNotification on A\'s desktop');
  expect(server.closeCalls).not.toContain(keptId);
  phone.disconnect();
});
