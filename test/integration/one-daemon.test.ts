import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startDaemon, tempDir } from '../helpers/daemon';

// One daemon per data directory, refused at once with the holder's pid; a kill -9 never
// leaves a lock that blocks the restart; a port clash names the port, its holder and the
// option that changes it.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');

/** Runs `beep start` to its exit (it is expected to fail) and returns the code and output. */
function startExpectingExit(dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'start', '--gateway-host', '127.0.0.1'], {
      env: { PATH: process.env.PATH, HOME: dataDir, BEEP_HOME: dataDir, BEEP_GATEWAY_PORT: '0', BEEP_ADMIN_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

test('a second daemon on the same data directory exits non-zero naming the running pid', async () => {
  const first = await startDaemon();
  try {
    const second = await startExpectingExit(first.dataDir);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain(`pid ${first.proc.pid}`);
    expect(second.output).toContain(first.dataDir);
    // The first one is untouched: still serving, still the owner of daemon.json.
    expect((await first.admin('GET', '/health')).status).toBe(200);
    expect(JSON.parse(fs.readFileSync(path.join(first.dataDir, 'daemon.json'), 'utf8')).pid).toBe(first.proc.pid);
  } finally {
    await first.stop();
  }
});

test('after kill -9 the restart is never refused, even when the old pid now belongs to a live process', async () => {
  const first = await startDaemon();
  await first.kill();
  // A reused pid: daemon.pid names a process that is alive (this test runner) but holds no lock.
  fs.writeFileSync(path.join(first.dataDir, 'daemon.pid'), `${process.pid}\n`);
  const second = await first.restart();
  try {
    expect((await second.admin('GET', '/health')).status).toBe(200);
  } finally {
    expect(await second.stop()).toBe(0);
  }
});

test('a port clash names the port, what holds it and how to choose another', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const result = await startExpectingExit(tempDir(), { BEEP_ADMIN_PORT: String(port) });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`admin port 127.0.0.1:${port} is already in use by pid ${process.pid}`);
    expect(result.output).toContain('--admin-port');
    expect(result.output).toContain('BEEP_ADMIN_PORT');
  } finally {
    blocker.close();
  }
});
