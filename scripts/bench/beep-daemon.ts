import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { httpsJson, type HttpsJsonResponse } from '../../app/cli/https-json';
import { DAEMON_NODE_FLAGS } from '../../app/node-flags';
import { trackChild } from './child-processes';
import { nowMs, sleep } from './clock';
import { serverCommand, type CorePlan } from './cores';

// Spawns the compiled daemon (dist/app/main.js `start`) on the server core with a temp data
// dir, finds it through daemon.json (PROTOCOL.md), pairs devices with it, and kills it hard
// and starts it again on the same data dir and ports for the catch-up scenario.

const MAIN = path.resolve(__dirname, '..', '..', 'app', 'main.js');
const START_TIMEOUT_MS = 30_000;

/** The listener ports of a daemon; fixed when it must come back on the same ones after a restart. */
export interface DaemonPorts {
  gateway: number;
  admin: number;
}

/** A started daemon: its process, ports, admin token and CA, as the bench needs them. */
export interface BeepDaemon {
  proc: ChildProcess;
  dataDir: string;
  ports: DaemonPorts;
  adminUrl: string;
  gatewayUrl: string;
  adminToken: string;
  caPem: string;
  /** nowMs() of the spawn and of the moment daemon.json (with this pid) was first seen. */
  spawnedAt: number;
  readyAt: number;
  exited: Promise<number | null>;
  /** What the daemon wrote on stdout and stderr (log level warn). */
  output(): string;
}

/** A spawned daemon that may not be ready yet: `ready` resolves once daemon.json names it. */
export interface DaemonLaunch {
  proc: ChildProcess;
  spawnedAt: number;
  ready: Promise<BeepDaemon>;
}

/** Node's flags for a CPU profile written at exit, when the run asks for one. */
function profileArgs(plan: CorePlan): string[] {
  return plan.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${plan.cpuProfileDir}`] : [];
}

/** Two ports free on loopback right now (bound to 0, then released). */
export async function freePorts(): Promise<DaemonPorts> {
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
  return { gateway: await one(), admin: await one() };
}

/**
 * Starts `beep start` with the defaults a user gets, except loopback gateway, ports (0, or the
 * given ones) and log level (warn), in `dataDir` (a new temp dir when absent); `env` adds to
 * its environment (the cluster run's BEEP_REDIS_URL).
 */
export function launchDaemon(plan: CorePlan, options: { dataDir?: string; ports?: DaemonPorts; env?: Record<string, string> } = {}): DaemonLaunch {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'beep-bench-'));
  const { command, args } = serverCommand(plan, [...profileArgs(plan), ...DAEMON_NODE_FLAGS, MAIN, 'start', '--gateway-host', '127.0.0.1']);
  const spawnedAt = nowMs();
  const proc = spawn(command, args, {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      BEEP_HOME: dataDir,
      BEEP_GATEWAY_PORT: String(options.ports?.gateway ?? 0),
      BEEP_ADMIN_PORT: String(options.ports?.admin ?? 0),
      BEEP_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(proc, dataDir);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = whenReady(proc, dataDir, spawnedAt, exited, () => output);
  ready.catch(() => undefined); // a launch abandoned before it was ready must not crash the bench
  return { proc, spawnedAt, ready };
}

/** Polls daemon.json until it names `proc`, then reads the admin token and CA. */
async function whenReady(
  proc: ChildProcess,
  dataDir: string,
  spawnedAt: number,
  exited: Promise<number | null>,
  output: () => string,
): Promise<BeepDaemon> {
  const runtimeFile = path.join(dataDir, 'daemon.json');
  const deadline = nowMs() + START_TIMEOUT_MS;
  while (nowMs() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the daemon exited with ${proc.exitCode ?? proc.signalCode}:\n${output()}`);
    try {
      const runtime = JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as { pid: number; gatewayPort: number; adminPort: number };
      if (runtime.pid === proc.pid) {
        return {
          proc,
          dataDir,
          ports: { gateway: runtime.gatewayPort, admin: runtime.adminPort },
          adminUrl: `http://127.0.0.1:${runtime.adminPort}`,
          gatewayUrl: `https://localhost:${runtime.gatewayPort}`,
          adminToken: fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim(),
          caPem: fs.readFileSync(path.join(dataDir, 'certs', 'ca.crt'), 'utf8'),
          spawnedAt,
          readyAt: nowMs(),
          exited,
          output,
        };
      }
    } catch {
      /* daemon.json not written yet, or still the previous daemon's */
    }
    await sleep(20);
  }
  proc.kill('SIGKILL');
  throw new Error(`the daemon did not write daemon.json within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

/** POSTs JSON to the gateway with the CA pinned, from `localAddress` when given. */
function gatewayPost<T>(daemon: BeepDaemon, urlPath: string, body: unknown, localAddress?: string): Promise<HttpsJsonResponse<T>> {
  return httpsJson<T>(`${daemon.gatewayUrl}${urlPath}`, { method: 'POST', body, ca: daemon.caPem, localAddress });
}

/** Pairs one device the way a phone does: a code from admin, exchanged on the gateway from the phone's own address. */
export async function pairDevice(daemon: BeepDaemon, name: string, localAddress?: string): Promise<{ deviceId: string; accessToken: string }> {
  const created = await fetch(`${daemon.adminUrl}/api/v1/pairings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.adminToken}` },
  });
  const code = (await created.json()) as { code?: string };
  if (created.status !== 201 || !code.code) throw new Error(`POST /api/v1/pairings answered ${created.status}`);
  const paired = await gatewayPost<{ deviceId: string; accessToken: string }>(daemon, '/api/v1/pair', { code: code.code, name, platform: 'bench' }, localAddress);
  if (paired.status !== 201) throw new Error(`POST /api/v1/pair answered ${paired.status}: ${paired.text}`);
  return paired.body;
}

/** kill -9 and wait for the exit; the data dir stays for the restart. */
export async function killHard(daemon: BeepDaemon): Promise<void> {
  if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
  await daemon.exited;
}

/** SIGTERM, wait for the exit, remove the data dir unless kept; resolves with the exit code. */
export async function stopDaemon(daemon: BeepDaemon, options: { keepDataDir?: boolean } = {}): Promise<number | null> {
  if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGTERM');
  const code = await daemon.exited;
  if (!options.keepDataDir) fs.rmSync(daemon.dataDir, { recursive: true, force: true });
  return code;
}

/** What the daemon's device list says is still owed: for the report on lost receipts. */
export async function devicesOwing(daemon: BeepDaemon): Promise<string> {
  const answer = await fetch(`${daemon.adminUrl}/api/v1/devices`, { headers: { authorization: `Bearer ${daemon.adminToken}` } });
  const devices = (await answer.json()) as { online?: boolean; pending?: number }[];
  const owing = devices.filter((d) => (d.pending ?? 0) > 0);
  const total = owing.reduce((n, d) => n + (d.pending ?? 0), 0);
  const offline = devices.filter((d) => !d.online).length;
  return `Beep's device list: ${owing.length} devices with ${total} pending, ${offline} offline`;
}

/** Frames sent to phones so far and the notifications they carried (its batch-size histogram; a cluster node's series carry a `node` label). */
export async function framesSent(daemon: BeepDaemon): Promise<{ frames: number; items: number }> {
  const answer = await fetch(`${daemon.adminUrl}/metrics`, { headers: { authorization: `Bearer ${daemon.adminToken}` } });
  const text = await answer.text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { frames: value('beep_batch_size_count'), items: value('beep_batch_size_sum') };
}
