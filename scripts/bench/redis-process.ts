import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { trackChild } from './child-processes';
import { sleep } from './clock';
import type { CorePlan } from './cores';
import { freePorts } from './beep-daemon';

// The cluster run's redis-server: Debian's binary on the server core beside the nodes, a free
// loopback port, its own temp dir, and the settings README's "Several PCs, one set of phones"
// documents (AOF on with `appendfsync everysec`, `noeviction`, no RDB snapshots).

const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 20_000;

/** A started redis-server: its process, URL and temp dir. */
export interface RedisProcess {
  proc: ChildProcess;
  url: string;
  /** SIGTERM (an AOF rewrite is not waited for), then removes its dir. */
  stop(): Promise<void>;
}

/** One PING; true once the server answers +PONG (not -LOADING). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\r\n')) done(text.startsWith('+PONG'));
    });
    socket.on('connect', () => socket.write('PING\r\n'));
  });
}

/** Starts redis-server pinned to the server core (when the plan pins) and waits until it answers. */
export async function startRedis(plan: CorePlan): Promise<RedisProcess> {
  if (!fs.existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing (apt-get install -y redis-server)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-bench-redis-'));
  const { gateway: port } = await freePorts();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--save', '',
  ];
  const proc = plan.unpinned
    ? spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('taskset', ['-c', String(plan.serverCpu), REDIS_SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(proc, dir);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await ping(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not answer within ${START_TIMEOUT_MS} ms:\n${output.slice(-2000)}`);
    }
    await sleep(50);
  }
  return {
    proc,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
