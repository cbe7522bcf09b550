import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpsJson, type HttpsJsonResponse } from '../../app/cli/https-json';
import { trackChild } from './child-processes';

// Spawns the compiled daemon (dist/app/main.js) on port 0 in a temp data dir and pairs devices
// with it. test/helpers/daemon.ts does the same for jest, but resolves main.js from the
// TypeScript sources' location, which is wrong once compiled into dist/.

const MAIN = path.resolve(__dirname, '..', '..', 'app', 'main.js');
const START_TIMEOUT_MS = 20_000;

/** A started daemon: its process, ports, admin token and CA, as the bench needs them. */
export interface BeepDaemon {
  proc: ChildProcess;
  dataDir: string;
  adminUrl: string;
  gatewayUrl: string;
  adminToken: string;
  caPem: string;
  exited: Promise<number | null>;
  /** What the daemon wrote on stdout and stderr (log level warn). */
  output(): string;
}

/** Starts `beep start` with the defaults a user gets, except ports (0) and log level (warn). */
export async function spawnDaemon(): Promise<BeepDaemon> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-bench-'));
  const proc = spawn(process.execPath, [MAIN, 'start', '--gateway-host', '127.0.0.1'], {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      BEEP_HOME: dataDir,
      BEEP_GATEWAY_PORT: '0',
      BEEP_ADMIN_PORT: '0',
      BEEP_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(proc, dataDir);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const runtimeFile = path.join(dataDir, 'daemon.json');
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`the daemon exited with ${proc.exitCode}:\n${output}`);
    try {
      const runtime = JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as { pid: number; gatewayPort: number; adminPort: number };
      if (runtime.pid === proc.pid) {
        return {
          proc,
          dataDir,
          adminUrl: `http://127.0.0.1:${runtime.adminPort}`,
          gatewayUrl: `https://localhost:${runtime.gatewayPort}`,
          adminToken: fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim(),
          caPem: fs.readFileSync(path.join(dataDir, 'certs', 'ca.crt'), 'utf8'),
          exited,
          output: () => output,
        };
      }
    } catch {
      /* daemon.json not written yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`the daemon did not start within ${START_TIMEOUT_MS} ms:\n${output}`);
}

/** POSTs JSON to the gateway with the CA pinned, from `localAddress` when given. */
function gatewayPost<T>(daemon: BeepDaemon, urlPath: string, body: unknown, localAddress?: string): Promise<HttpsJsonResponse<T>> {
  return httpsJson<T>(`${daemon.gatewayUrl}${urlPath}`, { method: 'POST', body, ca: daemon.caPem, localAddress });
}

/** Pairs one device the way a phone does: a code from admin, exchanged on the gateway from the phone's own address. */
export async function pairDevice(
  daemon: BeepDaemon,
  name: string,
  localAddress?: string,
): Promise<{ deviceId: string; accessToken: string }> {
  const created = await fetch(`${daemon.adminUrl}/api/v1/pairings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.adminToken}` },
  });
  const code = (await created.json()) as { code?: string };
  if (created.status !== 201 || !code.code) throw new Error(`POST /api/v1/pairings answered ${created.status}`);
  const paired = await gatewayPost<{ deviceId: string; accessToken: string }>(
    daemon,
    '/api/v1/pair',
    { code: code.code, name, platform: 'bench' },
    localAddress,
  );
  if (paired.status !== 201) throw new Error(`POST /api/v1/pair answered ${paired.status}: ${paired.text}`);
  return paired.body;
}

/** SIGTERM, wait for the exit, remove the data dir; resolves with the exit code. */
export async function stopDaemon(daemon: BeepDaemon): Promise<number | null> {
  if (daemon.proc.exitCode === null) daemon.proc.kill('SIGTERM');
  const code = await daemon.exited;
  fs.rmSync(daemon.dataDir, { recursive: true, force: true });
  return code;
}
