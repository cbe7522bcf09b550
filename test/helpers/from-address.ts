import http from 'node:http';
import https from 'node:https';
import type { RunningDaemon } from './daemon';

// Requests to either listener from a chosen loopback source address (127.0.0.0/8 on Linux),
// so a test can play several hosts with their own budgets, and a server-sent-events reader
// that notices when the server closes the stream.

export interface Answer {
  status: number;
  /** Beep's error code (`error.code`, or `beep_code` in the ntfy/Gotify shapes). */
  code?: string;
  body: any;
  headers: http.IncomingHttpHeaders;
}

export interface FromOptions {
  /** The local address to connect from; 127.0.0.1 when unset. */
  from?: string;
  headers?: Record<string, string>;
  body?: string;
}

function requestOptions(daemon: RunningDaemon, listener: 'admin' | 'gateway', method: string, path: string, options: FromOptions): https.RequestOptions {
  const port = listener === 'admin' ? daemon.runtime.adminPort : daemon.runtime.gatewayPort;
  return {
    host: '127.0.0.1',
    port,
    method,
    path,
    localAddress: options.from ?? '127.0.0.1',
    agent: false,
    ...(listener === 'gateway' ? { ca: daemon.caPem, servername: 'localhost' } : {}),
    headers: {
      host: `${listener === 'admin' ? '127.0.0.1' : 'localhost'}:${port}`,
      ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
      ...options.headers,
    },
  };
}

/** One request; resolves with the status, the parsed body and Beep's error code. */
export function requestFrom(daemon: RunningDaemon, listener: 'admin' | 'gateway', method: string, path: string, options: FromOptions = {}): Promise<Answer> {
  const send = listener === 'admin' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = send(requestOptions(daemon, listener, method, path, options), (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, code: body?.error?.code ?? body?.beep_code, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An open server-sent-events stream on the admin listener. */
export interface EventStream {
  status: number;
  /** Everything received so far. */
  text(): string;
  /** True once the server ended the stream. */
  closed(): boolean;
  close(): void;
}

/** Opens GET `path` as an event stream; resolves once the answer's headers arrive. */
export function openEventStream(daemon: RunningDaemon, path: string, options: FromOptions = {}): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.request(requestOptions(daemon, 'admin', 'GET', path, options), (res) => {
      let text = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve({ status: res.statusCode ?? 0, text: () => text, closed: () => ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls until `condition` holds; throws naming `what` after `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
