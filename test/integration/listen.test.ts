import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { killListeners, Listener } from '../helpers/listener';

// `beep listen` is the reference phone client: it survives the daemon stopping and starting
// again on the same ports (and a certificate renewal before that), delivers what was sent
// meanwhile once, refuses a second listener on its state file, and pairs a new device when
// given a new code instead of silently reusing (or stealing) the old one.

let daemon: RunningDaemon;

afterEach(async () => {
  killListeners();
  await daemon?.stop();
});

/** A fresh pairing link, pointed at localhost (the test box's certificate covers it). */
async function pairingUrl(d: RunningDaemon): Promise<string> {
  const res = await d.admin('POST', '/api/v1/pairings');
  return res.body.url.replace(/^https:\/\/[^/]+/, `https://localhost:${d.runtime.gatewayPort}`);
}

async function send(d: RunningDaemon, title: string, priority?: number): Promise<string> {
  const res = await d.admin('POST', '/api/v1/notifications', { title, ...(priority ? { priority } : {}) });
  expect(res.status).toBe(202);
  return res.body.id;
}

test('a daemon restart on the same ports: the listener reconnects and prints what was sent meanwhile, once', async () => {
  daemon = await startDaemon();
  const state = path.join(daemon.dataDir, 'listen-restart.json');
  const listener = new Listener(daemon, state, await pairingUrl(daemon));
  await listener.waitFor(() => listener.stderr.includes('connected'), 'connected');
  await send(daemon, 'before');
  await listener.waitFor(() => listener.titles().includes('before'), 'before');

  // A certificate renewal, then the daemon goes away and comes back on the same ports.
  expect((await daemon.cli(['cert', 'renew'])).status).toBe(0);
  const ports = ['--gateway-port', String(daemon.runtime.gatewayPort), '--admin-port', String(daemon.runtime.adminPort)];
  expect(await daemon.stop()).toBe(0);
  await listener.waitFor(() => /disconnected \(/.test(listener.stderr), 'the disconnect');
  daemon = await startDaemon({ dataDir: daemon.dataDir, args: ports });
  await send(daemon, 'meanwhile');
  await listener.waitFor(() => listener.titles().includes('meanwhile'), 'meanwhile', 60_000);
  expect(listener.stderr.match(/^connected through /gm)?.length).toBeGreaterThanOrEqual(2);

  await send(daemon, 'sentinel', 1);
  await listener.waitFor(() => listener.titles().includes('sentinel'), 'the sentinel');
  expect(listener.titles()).toEqual(['before', 'meanwhile', 'sentinel']);
  expect(listener.proc.exitCode).toBeNull();
});

test('a second listener on the same state file is refused, naming the first', async () => {
  daemon = await startDaemon();
  const state = path.join(daemon.dataDir, 'listen-one.json');
  const first = new Listener(daemon, state, await pairingUrl(daemon));
  await first.waitFor(() => first.stderr.includes('connected'), 'connected');
  const second = new Listener(daemon, state);
  expect(await second.exited).not.toBe(0);
  expect(second.stderr).toContain(`another \`beep listen\` (pid ${first.proc.pid}) is using ${state}`);
  // The first one still has its device to itself.
  await send(daemon, 'still mine');
  await first.waitFor(() => first.titles().includes('still mine'), 'still mine');
});

test('a new code with an existing state file pairs a new device and says how to remove the old one', async () => {
  daemon = await startDaemon();
  const state = path.join(daemon.dataDir, 'listen-repair.json');
  const first = new Listener(daemon, state, await pairingUrl(daemon));
  await first.waitFor(() => first.stderr.includes('connected'), 'connected');
  const oldId = /paired as device (\S+);/.exec(first.stderr)![1];
  first.proc.kill('SIGTERM');
  await first.exited;

  const again = new Listener(daemon, state, await pairingUrl(daemon));
  await again.waitFor(() => again.stderr.includes('connected'), 'connected');
  const newId = /paired as device (\S+);/.exec(again.stderr)![1];
  expect(newId).not.toBe(oldId);
  expect(again.stderr).toContain(`the device this state file held before (${oldId}) stays paired; \`beep revoke ${oldId}\` removes it`);
  const devices = (await daemon.admin('GET', '/api/v1/devices')).body.map((d: { id: string }) => d.id);
  expect(devices).toEqual(expect.arrayContaining([oldId, newId]));
});
