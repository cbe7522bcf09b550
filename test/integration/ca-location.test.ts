import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { httpsJson } from '../../app/cli/https-json';
import { tempDir } from '../helpers/daemon';

// Issue 10, item 2: however Beep is started, it keeps one CA. `npm start` used to keep it in the
// clone's ./certs (`--cert-dir certs`), `beep start` and the service in <data dir>/certs; switching
// made a new CA and every phone failed with a bare websocket error. A copy of the compiled daemon
// in a clone-like folder plays the clone, so "the clone's certs/" is found relative to the code.

const BUILT = path.resolve(__dirname, '..', '..');
const START_TIMEOUT_MS = 20_000;
const WAIT_MS = 20_000;

interface Started {
  proc: ChildProcess;
  caFingerprint: string;
  adminPort: number;
  gatewayPort: number;
  output: () => string;
  stop: () => Promise<void>;
}

/** A folder laid out like a clone: package.json, the compiled dist/ and (linked) node_modules. */
function makeClone(): string {
  const clone = tempDir('beep-clone-');
  fs.copyFileSync(path.join(BUILT, 'package.json'), path.join(clone, 'package.json'));
  fs.cpSync(path.join(BUILT, 'dist'), path.join(clone, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(BUILT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  return clone;
}

/** Every process a test started, so a failed assertion cannot leave one running. */
const children: ChildProcess[] = [];

function spawnBeep(clone: string, args: string[], dataDir: string, cwd: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [path.join(clone, 'dist', 'app', 'main.js'), ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: dataDir, BEEP_HOME: dataDir, BEEP_GATEWAY_PORT: '0', BEEP_ADMIN_PORT: '0', BEEP_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

/** Starts the clone's daemon (as `npm start` or `beep start` would) and waits for daemon.json. */
async function start(clone: string, dataDir: string, extra: string[] = [], cwd = clone, env: Record<string, string> = {}): Promise<Started> {
  const proc = spawnBeep(clone, ['start', '--gateway-host', '127.0.0.1', ...extra], dataDir, cwd, env);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}:\n${output}`);
    try {
      const runtime = JSON.parse(fs.readFileSync(path.join(dataDir, 'daemon.json'), 'utf8'));
      if (runtime.pid === proc.pid) {
        return {
          proc,
          caFingerprint: runtime.caFingerprint,
          adminPort: runtime.adminPort,
          gatewayPort: runtime.gatewayPort,
          output: () => output,
          stop: async () => {
            if (proc.exitCode === null) proc.kill('SIGTERM');
            await exited;
          },
        };
      }
    } catch {
      /* not written yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`daemon did not start:\n${output}`);
}

async function waitFor(read: () => string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (pattern.test(read())) return read();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; got:\n${read()}`);
}

let clone: string;
let dataDir: string;
const cloneCerts = () => path.join(clone, 'certs');

beforeAll(() => {
  clone = makeClone();
  dataDir = tempDir('beep-data-');
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  }
  fs.rmSync(clone, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let npmStartFingerprint: string;

test('`npm start`-style (--cert-dir certs, in the clone) then `beep start` keeps the CA: moved once, with a log line', async () => {
  const npmStyle = await start(clone, dataDir, ['--cert-dir', 'certs']);
  npmStartFingerprint = npmStyle.caFingerprint;
  await npmStyle.stop();
  expect(fs.existsSync(path.join(cloneCerts(), 'ca.crt'))).toBe(true);
  expect(fs.existsSync(path.join(dataDir, 'certs', 'ca.crt'))).toBe(false);

  // `beep start` from another folder: the data directory is the one location.
  const beepStart = await start(clone, dataDir, [], dataDir);
  expect(beepStart.caFingerprint).toBe(npmStartFingerprint);
  expect(beepStart.output()).toMatch(/adopted the CA/);
  expect(beepStart.output()).toContain(npmStartFingerprint);
  await beepStart.stop();
  expect(fs.statSync(path.join(dataDir, 'certs', 'ca.key')).mode & 0o777).toBe(0o600);
  expect(fs.existsSync(path.join(cloneCerts(), 'ca.key'))).toBe(false); // moved: one copy of the key

  // Once: the next start finds its own CA and says nothing about adopting.
  const again = await start(clone, dataDir);
  expect(again.caFingerprint).toBe(npmStartFingerprint);
  expect(again.output()).not.toMatch(/adopted the CA/);
  expect(again.output()).not.toMatch(/different CA/);
  await again.stop();
});

test('when the clone and the data directory hold different CAs, the data directory wins with a warning naming both', async () => {
  // The clone gets another CA (as `npm start` would make on a fresh clone with another data dir).
  fs.renameSync(cloneCerts(), `${cloneCerts()}.first`);
  const otherData = tempDir('beep-data-other-');
  const other = await start(clone, otherData, ['--cert-dir', 'certs']);
  const cloneFingerprint = other.caFingerprint;
  await other.stop();
  expect(cloneFingerprint).not.toBe(npmStartFingerprint);

  const daemon = await start(clone, dataDir);
  expect(daemon.caFingerprint).toBe(npmStartFingerprint);
  const line = daemon.output().split('\n').find((l) => /different CA/.test(l)) ?? '';
  expect(line).toMatch(/warn/i);
  expect(line).toContain(npmStartFingerprint);
  expect(line).toContain(cloneFingerprint);
  await daemon.stop();
  fs.rmSync(otherData, { recursive: true, force: true });
});

test('`beep listen` pinned to one CA, meeting a daemon with another, says the CA changed and to pair again', async () => {
  const daemon = await start(clone, dataDir);
  const token = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const pairing = await fetch(`http://127.0.0.1:${daemon.adminPort}/api/v1/pairings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  }).then((r) => r.json() as Promise<{ code: string }>);
  const stateFile = path.join(dataDir, 'listen-test.json');
  const first = spawnBeep(clone, ['--data-dir', dataDir, 'listen', '--code', pairing.code, '--state', stateFile], dataDir, dataDir);
  let firstErr = '';
  first.stderr!.on('data', (d: Buffer) => (firstErr += d.toString()));
  await waitFor(() => firstErr, /connected/);
  first.kill('SIGTERM');
  await daemon.stop();

  // The same data directory started another way (same ports), with its certificates elsewhere: a new CA.
  const samePort = { BEEP_GATEWAY_PORT: String(daemon.gatewayPort) };
  const elsewhere = await start(clone, dataDir, ['--cert-dir', path.join(tempDir('beep-certs-'), 'certs')], clone, samePort);
  expect(elsewhere.caFingerprint).not.toBe(npmStartFingerprint);
  const second = spawnBeep(clone, ['--data-dir', dataDir, 'listen', '--state', stateFile], dataDir, dataDir);
  let secondErr = '';
  second.stderr!.on('data', (d: Buffer) => (secondErr += d.toString()));
  try {
    const said = await waitFor(() => secondErr, /certificate authority changed/);
    expect(said).toContain("the PC's certificate authority changed: pair again");
    expect(said).toContain(npmStartFingerprint);
    expect(said).toContain(elsewhere.caFingerprint);
    expect(said).not.toMatch(/cannot connect: websocket error/);
    // The CLI's HTTPS calls (token refresh, pairing) say the same instead of a bare TLS error.
    const oldCaPem = fs.readFileSync(path.join(dataDir, 'certs', 'ca.crt'), 'utf8');
    await expect(
      httpsJson(`https://localhost:${elsewhere.gatewayPort}/api/v1/token`, { method: 'POST', body: { refreshToken: 'x' }, ca: oldCaPem }),
    ).rejects.toThrow(`the PC's certificate authority changed: pair again (pinned ${npmStartFingerprint}, the PC now has ${elsewhere.caFingerprint})`);
  } finally {
    second.kill('SIGTERM');
    await elsewhere.stop();
  }
});
