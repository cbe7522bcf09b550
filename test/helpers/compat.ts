import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import WebSocket from 'ws';
import type { RunningDaemon } from './daemon';

// Clients for the ntfy and Gotify APIs: token creation through the admin API, a streaming HTTP
// reader (ntfy json / sse / raw) and a WebSocket reader (ntfy /ws, Gotify /stream), each
// collecting what arrives so a test can wait for it.

export async function createToken(daemon: RunningDaemon, kind: 'publish' | 'subscribe', topics?: string[], name?: string): Promise<{ id: number; token: string }> {
  const res = await daemon.admin('POST', '/api/v1/tokens', { kind, ...(topics ? { topics } : {}), ...(name ? { name } : {}) });
  if (res.status !== 201) throw new Error(`token create answered ${res.status}: ${res.text}`);
  return { id: res.body.id, token: res.body.token };
}

/** Polls until the predicate holds. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A streaming GET: everything received, as text; `ended` once the server closes it. */
export class HttpStream {
  text = '';
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  ended = false;
  private req?: http.ClientRequest;

  static open(url: string, headers: Record<string, string> = {}, ca?: string): Promise<HttpStream> {
    const stream = new HttpStream();
    return new Promise((resolve, reject) => {
      const get = url.startsWith('https:') ? https.get : http.get;
      stream.req = get(url, { headers, ...(ca ? { ca } : {}) }, (res) => {
        stream.status = res.statusCode ?? 0;
        stream.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (stream.text += chunk));
        res.on('end', () => (stream.ended = true));
        res.on('close', () => (stream.ended = true));
        resolve(stream);
      });
      stream.req.on('error', reject);
    });
  }

  /** ndjson lines parsed. */
  get json(): any[] {
    return this.text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  }

  /** SSE events as { event?, data }. */
  get sse(): { event?: string; data: any }[] {
    return this.text
      .split('\n\n')
      .filter((block) => block.trim())
      .map((block) => {
        const lines = block.split('\n');
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
        const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6));
        return event ? { event, data } : { data };
      });
  }

  close(): void {
    this.req?.destroy();
  }
}

/** A WebSocket reader; `refused` holds the HTTP status of a refused handshake. */
export class WsReader {
  readonly messages: any[] = [];
  closed = false;
  refused?: { status: number; body: string };
  ws?: WebSocket;

  static open(url: string, headers: Record<string, string> = {}, ca?: string): Promise<WsReader> {
    const reader = new WsReader();
    const ws = new WebSocket(url, { headers, ...(ca ? { ca } : {}) });
    reader.ws = ws;
    ws.on('message', (data) => reader.messages.push(JSON.parse(data.toString())));
    ws.on('close', () => (reader.closed = true));
    return new Promise((resolve) => {
      ws.on('open', () => resolve(reader));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          reader.refused = { status: res.statusCode ?? 0, body };
          reader.closed = true;
          resolve(reader);
        });
      });
      ws.on('error', () => {
        reader.closed = true;
        resolve(reader);
      });
    });
  }

  close(): void {
    this.ws?.close();
  }
}

/** A request with a raw body and any headers (ntfy publishing). */
export async function send(method: string, url: string, body?: string | Buffer, headers: Record<string, string> = {}, ca?: string): Promise<{ status: number; body: any; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? https.request : http.request;
    const req = request(url, { method, headers, ...(ca ? { ca } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** These suites drive the gateway hard from 127.0.0.1: lift the per-IP and per-device budgets (defaults 100 and 500 a minute). */
export const HAMMER_LIMITS = { gatewayPerIpPerMin: 100_000, devicePerMin: 100_000 };

/**
 * A subscriber that stops reading: a plain-HTTP GET on the admin listener whose socket is paused
 * once the answer's headers arrived, so whatever the server writes piles up on its side.
 */
export class StalledReader {
  status = 0;
  /** The server ended or reset the connection (seen once reading resumes). */
  closed = false;
  private head = '';

  private constructor(private readonly socket: net.Socket) {}

  static open(port: number, path: string, headers: Record<string, string> = {}): Promise<StalledReader> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const reader = new StalledReader(socket);
    socket.on('close', () => (reader.closed = true));
    socket.on('error', () => (reader.closed = true));
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        reader.head += chunk.toString('latin1');
        if (!reader.head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        socket.pause();
        reader.status = Number(reader.head.split(' ')[1]);
        resolve(reader);
      };
      socket.on('data', onData);
      socket.once('error', reject);
      const lines = Object.entries({ Host: `127.0.0.1:${port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    });
  }

  /** Reads again (discarding what arrives) until the server closes, or the timeout; true when it closed. */
  async resume(timeoutMs = 10_000): Promise<boolean> {
    this.socket.on('data', () => undefined);
    this.socket.resume();
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Stores `count` notifications of `bodyBytes` each on `topic` through the admin API, `parallel` at a time. */
export async function fillTopic(daemon: RunningDaemon, topic: string, count: number, bodyBytes = 4000, parallel = 32): Promise<void> {
  const body = 'x'.repeat(bodyBytes);
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
      daemon.admin('POST', '/api/v1/notifications', { title: `backlog ${i + j}`, body, topic }),
    );
    for (const r of await Promise.all(batch)) if (r.status !== 202) throw new Error(`publish answered ${r.status}: ${r.text}`);
  }
}
