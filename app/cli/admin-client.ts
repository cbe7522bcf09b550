import fs from 'node:fs';
import { Readable } from 'node:stream';
import { readAdminToken, readRuntimeInfo, type RuntimeInfo } from '../discovery';

// How the `beep` CLI talks to a running daemon: daemon.json for the port, admin.token for
// the credentials, JSON over the loopback admin listener.

/** The daemon answered with PROTOCOL.md's error shape (or could not be reached). */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    readonly runtime: RuntimeInfo,
  ) {}

  /** Finds the daemon that serves `dataDir`; a clear error when none runs there. */
  static fromDataDir(dataDir: string): AdminClient {
    const runtime = readRuntimeInfo(dataDir);
    if (!runtime) {
      throw new AdminError(`Beep is not running for ${dataDir} (no daemon.json); start it with \`beep start\`.`, 'not_running', 0);
    }
    const token = readAdminToken(dataDir);
    if (!token) throw new AdminError(`No admin.token in ${dataDir}; is this the right data directory?`, 'no_token', 0);
    return new AdminClient(`http://127.0.0.1:${runtime.adminPort}`, token, runtime);
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    return this.send<T>(path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  }

  /** POSTs a file as the body, streamed from disk (never read whole). */
  async upload<T>(path: string, file: string, headers: Record<string, string>): Promise<{ status: number; body: T }> {
    const size = fs.statSync(file).size;
    const body = Readable.toWeb(fs.createReadStream(file)) as ReadableStream;
    return this.send<T>(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/octet-stream', 'content-length': String(size), ...headers },
      body,
      duplex: 'half',
    } as RequestInit);
  }

  private async send<T>(path: string, init: RequestInit): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, init);
    } catch (error) {
      throw new AdminError(
        `Cannot reach Beep at ${this.baseUrl} (${(error as Error).message}); is the daemon (pid ${this.runtime.pid}) running?`,
        'unreachable',
        0,
      );
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok && response.status !== 503) {
      const error = (parsed as { error?: { code: string; message: string } } | undefined)?.error;
      throw new AdminError(error?.message ?? `HTTP ${response.status}`, error?.code ?? 'http_error', response.status);
    }
    return { status: response.status, body: parsed as T };
  }
}
