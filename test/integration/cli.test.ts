import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { killListeners, Listener } from '../helpers/listener';

// The `beep` CLI against a real daemon: pair, send, listen (pair, print, ack, resume after a
// restart of the listener), devices, revoke, status.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');

function beep(daemon: RunningDaemon, ...args: string[]) {
  return spawnSync(process.execPath, [MAIN, '--data-dir', daemon.dataDir, ...args], { encoding: 'utf8', timeout: 15_000 });
}

describe('beep CLI', () => {
  let daemon: RunningDaemon;
  beforeAll(async () => {
    daemon = await startDaemon();
  });
  afterAll(async () => {
    killListeners(); // a failed assertion must not leave a listener running (it would keep jest alive)
    await daemon.stop();
  });

  test('pair, send, listen, resume, devices, revoke, status', async () => {
    const pair = beep(daemon, 'pair');
    expect(pair.status).toBe(0);
    const url = /beep listen --url '([^']+)'/.exec(pair.stdout)![1];
    expect(url).toMatch(new RegExp(`^https://[^/]+:${daemon.runtime.gatewayPort}/#code=\\d{8}&fp=sha256%2F[0-9a-f]{64}&h=12$`));
    expect(pair.stdout).toMatch(/Pairing code: \d{4} \d{4}/);
    expect(pair.stdout).toMatch(/[▀▄█]/); // the QR code itself
    // The CA fingerprint readable, in groups of four as the phone's trust page shows it.
    const grouped = daemon.runtime.caFingerprint.replace('sha256/', '').toUpperCase().match(/.{4}/g)!.join(' ');
    expect(pair.stdout).toContain(`CA fingerprint (the phone checks it; compare with its trust page): ${grouped}`);

    // listen pairs through the LAN URL printed above; pin it to localhost for the test box.
    const localUrl = url.replace(/^https:\/\/[^/]+/, `https://localhost:${daemon.runtime.gatewayPort}`);
    const state = path.join(daemon.dataDir, 'listen-test.json');
    let listener = new Listener(daemon, state, localUrl);
    await listener.waitFor(() => listener.stderr.includes('connected'), 'connected');
    expect(fs.statSync(state).mode & 0o777).toBe(0o600);

    const sent = beep(daemon, 'send', 'Backup finished', '--body', '42 GB', '--priority', 'high', '--app', 'restic', '--tag', 'backup', '--tag', 'nightly');
    expect(sent.status).toBe(0);
    expect(sent.stdout).toMatch(/^accepted as \S+\n  on its way to 1 online device\n$/);
    const id = sent.stdout.split('\n')[0].replace('accepted as ', '');
    // ntfy's "max" is an alias for urgent; --json answers scripts.
    const max = JSON.parse(beep(daemon, 'send', 'loud one', '-p', 'max', '--json').stdout);
    expect(max).toMatchObject({ duplicate: false, devices: 1, online: 1 });
    await listener.waitFor(() => listener.lines.some((l) => l.id === max.id && l.priority === 5), 'the max one as urgent');
    await listener.waitFor(() => listener.lines.some((l) => l.id === id), 'the notification');
    expect(listener.lines.find((l) => l.id === id)).toMatchObject({
      title: 'Backup finished', body: '42 GB', priority: 4, app: 'restic', tags: ['backup', 'nightly'], source: 'cli',
    });

    // Idempotent send with --id.
    expect(beep(daemon, 'send', 'once', '--id', 'cli-once').status).toBe(0);
    expect(beep(daemon, 'send', 'once', '--id', 'cli-once').stdout).toContain('already sent');

    // Stop the listener; what is sent meanwhile arrives when it comes back, and nothing twice.
    await listener.waitFor(() => listener.titles().includes('once'), 'once');
    listener.proc.kill('SIGTERM');
    await listener.exited;
    expect(beep(daemon, 'send', 'while away', '-p', 'urgent').status).toBe(0);
    listener = new Listener(daemon, state);
    await listener.waitFor(() => listener.titles().includes('while away'), 'resumed delivery');
    // Before asserting nothing came twice: a lowest-priority sentinel leaves after anything owed.
    expect(beep(daemon, 'send', 'sentinel', '-p', 'min').status).toBe(0);
    await listener.waitFor(() => listener.titles().includes('sentinel'), 'the sentinel');
    expect(listener.titles()).toEqual(['while away', 'sentinel']);

    const devices = beep(daemon, 'devices');
    expect(devices.status).toBe(0);
    expect(devices.stdout).toMatch(/cli test\s+cli\s+online/);

    const status = beep(daemon, 'status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/is ok/);
    expect(status.stdout).toMatch(/database\s+ok/);
    // No session bus here: capture is not running, and status says so instead of a bare "ok".
    expect(status.stdout).toMatch(/sources\s+ok\s+[\d.]+ ms \(desktop capture is not running, dbus waiting: /);

    const revoke = beep(daemon, 'revoke', 'cli test');
    expect(revoke.status).toBe(0);
    expect(await listener.exited).toBe(4);
    expect(listener.stderr).toContain('revoked');
    expect(fs.existsSync(state)).toBe(false);
  });

  test('errors are clear and exit non-zero', async () => {
    const badPriority = beep(daemon, 'send', 'x', '--priority', 'loud');
    expect(badPriority.status).toBe(2);
    expect(badPriority.stderr).toContain('--priority must be');
    const tooLong = beep(daemon, 'send', 'x'.repeat(300));
    expect(tooLong.status).toBe(1);
    expect(tooLong.stderr).toContain('title_too_long');
    expect(beep(daemon, 'revoke', 'no-such-device').status).toBe(1);
    // The only device was revoked by the test above: accepted, and the sender is told nobody gets it.
    const unheard = beep(daemon, 'send', 'to nobody');
    expect(unheard.status).toBe(0);
    expect(unheard.stderr).toContain('no device is paired yet');

    const nowhere = spawnSync(process.execPath, [MAIN, '--data-dir', path.join(daemon.dataDir, 'nope'), 'status'], { encoding: 'utf8' });
    expect(nowhere.status).toBe(3);
    expect(nowhere.stderr).toContain('not running');
  });
});
