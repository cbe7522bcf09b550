import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpsJson } from '../../app/cli/https-json';
import { DAEMON_NODE_FLAGS } from '../../app/node-flags';

// Starts the real, compiled daemon as a child process on port 0 in a temporary data
// directory, and talks to it over real HTTP and HTTPS.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');
const START_TIMEOUT_MS = 20_000;

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface StartOptions {
  dataDir?: string;
  /** Written to <dataDir>/config.json before start. */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  args?: string[];
}

export function tempDir(prefix = 'beep-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export class RunningDaemon {
  readonly adminUrl: string;
  readonly gatewayUrl: string;
  readonly adminToken: string;
  readonly caPem: string;
  exited: Promise<number | null>;

  constructor(
    readonly dataDir: string,
    readonly proc: ChildProcess,
    readonly runtime: { pid: number; gatewayPort: number; adminPort: number; caFingerprint: string; version: string },
    readonly logs: () => string,
    private readonly options: StartOptions,
  ) {
    this.adminUrl = `http://127.0.0.1:${runtime.adminPort}`;
    this.gatewayUrl = `https://localhost:${runtime.gatewayPort}`;
    this.adminToken = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    const certDir = path.join(dataDir, 'certs');
    this.caPem = fs.readFileSync(path.join(certDir, 'ca.crt'), 'utf8');
    this.exited = new Promise((resolve) => {
      if (proc.exitCode !== null) resolve(proc.exitCode);
      else proc.once('exit', (code) => resolve(code));
    });
  }

  /** A request to the admin listener with the admin token (unless headers override it). */
  async admin<T = any>(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
    const response = await fetch(`${this.adminUrl}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : isRaw ? (body as string) : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: response.status, body: parsed as T, headers: response.headers, text };
  }

  /** A request to the gateway over TLS, trusting only this daemon's CA. */
  gateway<T = any>(method: string, urlPath: string, body?: unknown) {
    return httpsJson<T>(`${this.gatewayUrl}${urlPath}`, { method, body, ca: this.caPem });
  }

  /** Runs the `beep` CLI against this daemon's data directory; never throws on a non-zero exit. */
  cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [MAIN, '--data-dir', this.dataDir, ...args], {
        env: { PATH: process.env.PATH, HOME: this.dataDir, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin!.end(options.input ?? '');
      child.once('exit', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
    return this.exited;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Starts a new daemon on the same data directory. */
  restart(): Promise<RunningDaemon> {
    return startDaemon({ ...this.options, dataDir: this.dataDir, config: undefined });
  }
}

/** Spawns `beep start` and resolves once daemon.json names the new process. */
export async function startDaemon(options: StartOptions = {}): Promise<RunningDaemon> {
  const dataDir = options.dataDir ?? tempDir();
  if (options.config) fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify(options.config));
  const proc = spawn(
    process.execPath,
    // Started as the service units start it (node-flags.ts).
    [...DAEMON_NODE_FLAGS, MAIN, 'start', '--gateway-host', '127.0.0.1', ...(options.args ?? [])],
    {
      env: {
        PATH: process.env.PATH,
        HOME: dataDir,
        BEEP_HOME: dataDir,
        BEEP_GATEWAY_PORT: '0',
        BEEP_ADMIN_PORT: '0',
        BEEP_LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const runtimeFile = path.join(dataDir, 'daemon.json');
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}:\n${output}`);
    try {
      const runtime = JSON.parse(fs.readFileSync(runtimeFile, 'utf8'));
      if (runtime.pid === proc.pid) return new RunningDaemon(dataDir, proc, runtime, () => output, options);
    } catch {
      /* not written yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`daemon did not start within ${START_TIMEOUT_MS} ms:\n${output}`);
}
