import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateCertificates } from '../../app/crypto/certificates';
import { trackChild } from './child-processes';
import { nowMs } from './clock';
import { serverCommand, type CorePlan } from './cores';
import type { SystemUnderTest } from './system';

// A baseline under test: baseline-relay.js as a child process on the server core (so its CPU
// and RSS are its own, like the daemon's), with a self-signed certificate from Beep's own
// certificate code, in one of its two modes.

const RELAY_SCRIPT = path.join(__dirname, 'baseline-relay.js');
const START_TIMEOUT_MS = 15_000;

interface SpawnedRelay {
  proc: ChildProcess;
  apiPort: number;
  socketPort: number;
  readyAt: number;
  output: () => string;
}

/** Spawns the relay and resolves with its ports once it prints them. */
function spawnRelay(plan: CorePlan, env: Record<string, string>, tempDir: string): Promise<SpawnedRelay> {
  const { command, args } = serverCommand(plan, [RELAY_SCRIPT]);
  const proc = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(proc, tempDir);
  let output = '';
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the baseline relay did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    let line = '';
    proc.stdout!.on('data', (d: Buffer) => {
      line += d.toString();
      const newline = line.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      const ports = JSON.parse(line.slice(0, newline)) as { apiPort: number; socketPort: number };
      resolve({ proc, ...ports, readyAt: nowMs(), output: () => output });
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the baseline relay exited with ${code}:\n${output}`));
    });
  });
}

/** Starts the relay (`ack`: one emit per socket with an ack callback; else one broadcast per post). */
export async function startRelay(plan: CorePlan, kind: 'relay' | 'relay-ack'): Promise<SystemUnderTest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-bench-relay-'));
  const tls = await loadOrCreateCertificates({ dir });
  const token = crypto.randomBytes(24).toString('base64url');
  const relay = await spawnRelay(
    plan,
    {
      RELAY_MODE: kind === 'relay-ack' ? 'ack' : 'broadcast',
      RELAY_TOKEN: token,
      RELAY_CERT: path.join(dir, 'server.crt'),
      RELAY_KEY: path.join(dir, 'server.key'),
    },
    dir,
  );
  const exited = new Promise<number | null>((resolve) => {
    if (relay.proc.exitCode !== null) resolve(relay.proc.exitCode);
    else relay.proc.once('exit', (code) => resolve(code));
  });
  return {
    kind,
    pid: relay.proc.pid!,
    pids: [relay.proc.pid!],
    readyAt: relay.readyAt,
    postTarget: { url: `http://127.0.0.1:${relay.apiPort}/notify`, headers: { authorization: `Bearer ${token}` } },
    preparePhones: async (count) => ({
      protocol: 'relay',
      url: `https://localhost:${relay.socketPort}`,
      ca: tls.caCertPem,
      tokens: Array.from({ length: count }, () => token),
    }),
    problems: () => (relay.proc.exitCode !== null ? [`the relay exited with ${relay.proc.exitCode}`] : []),
    async stop() {
      if (relay.proc.exitCode === null) relay.proc.kill('SIGTERM');
      const code = await exited;
      fs.rmSync(dir, { recursive: true, force: true });
      if (relay.output().trim()) process.stderr.write(`relay output:\n${relay.output().slice(-4000)}\n`);
      return code;
    },
  };
}
