import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { loadOrCreateCertificates } from '../../app/crypto/certificates';
import { trackChild } from './child-processes';
import { socketSourceOptions } from './client-address';
import type { ReceiptSink } from './receipts';
import { mapLimit } from './map-limit';
import type { RelayUnderTest } from './relay-under-test';
import { whenConnected } from './socket-ready';

// The baseline under test: baseline-relay.js as a child process (so its RSS is its own, like
// the daemon's) with a self-signed certificate from Beep's own certificate code, and N plain
// socket.io clients that pin that CA and just count what arrives.

const RELAY_SCRIPT = path.join(__dirname, 'baseline-relay.js');
const START_TIMEOUT_MS = 15_000;

interface SpawnedRelay {
  proc: ChildProcess;
  apiPort: number;
  socketPort: number;
  output: () => string;
}

/** Spawns the relay and resolves with its ports once it prints them. */
function spawnRelay(env: Record<string, string>, tempDir: string): Promise<SpawnedRelay> {
  const proc = spawn(process.execPath, [RELAY_SCRIPT], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
      resolve({ proc, ...ports, output: () => output });
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the baseline relay exited with ${code}:\n${output}`));
    });
  });
}

/** Connects one baseline client; every notification goes to the sink. */
function connectClient(
  url: string,
  ca: string,
  token: string,
  client: number,
  sink: ReceiptSink,
  opened: Socket[],
  lost: string[],
): Promise<void> {
  const socket = io(url, {
    ca,
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
    ...socketSourceOptions(client),
  });
  opened.push(socket);
  socket.on('notification', (notification: { body?: unknown }) => sink.record(client, notification.body, performance.now()));
  return whenConnected(socket, `baseline client ${client}`, lost);
}

/** Starts the baseline relay in a temp dir and connects `clients` clients that report to `sink`. */
export async function startBaseline(clients: number, sink: ReceiptSink): Promise<RelayUnderTest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-bench-baseline-'));
  const tls = await loadOrCreateCertificates({ dir });
  const token = crypto.randomBytes(24).toString('base64url');
  const relay = await spawnRelay(
    { RELAY_TOKEN: token, RELAY_CERT: path.join(dir, 'server.crt'), RELAY_KEY: path.join(dir, 'server.key') },
    dir,
  );
  const exited = new Promise<number | null>((resolve) => relay.proc.once('exit', (code) => resolve(code)));
  const lost: string[] = [];
  const sockets: Socket[] = [];
  const stop = async () => {
    for (const socket of sockets) socket.close();
    if (relay.proc.exitCode === null) relay.proc.kill('SIGTERM');
    const code = await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    if (relay.output().trim()) process.stderr.write(`baseline relay output:\n${relay.output().slice(-4000)}\n`);
    return code;
  };
  try {
    const url = `https://localhost:${relay.socketPort}`;
    await mapLimit(Array.from({ length: clients }), 16, (_x, i) => connectClient(url, tls.caCertPem, token, i, sink, sockets, lost));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'baseline',
    pid: relay.proc.pid!,
    postTarget: { url: `http://127.0.0.1:${relay.apiPort}/notify`, headers: { authorization: `Bearer ${token}` } },
    unexpectedDisconnects: () => [...lost, ...(relay.proc.exitCode !== null ? [`baseline relay exited with ${relay.proc.exitCode}`] : [])],
    extras: async () => ({}),
    stop,
  };
}
