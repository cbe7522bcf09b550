import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

// Low-level clients for the security suite: what a hostile host on the LAN can send that the
// friendly helpers (fetch, httpsJson, socket.io-client) will not.

/** Opens TLS with the given protocol bounds; resolves the negotiated version or rejects. */
export function tlsHandshake(port: number, ca: string, options: tls.ConnectionOptions = {}): Promise<{ version: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...options }, () => {
      const cert = socket.getPeerX509Certificate();
      const fingerprint = `sha256/${crypto.createHash('sha256').update(cert!.raw).digest('hex')}`;
      const version = socket.getProtocol() ?? '';
      socket.end();
      resolve({ version, fingerprint });
    });
    socket.once('error', reject);
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as written (any Host, any header) over plain TCP or TLS and parses the answer. */
export function rawRequest(port: number, request: string | Buffer, secure?: { ca: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = secure
      ? tls.connect({ host: '127.0.0.1', port, ca: secure.ca, servername: 'localhost' })
      : net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', reject);
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(request);
  });
}

/** A minimal HTTP/1.1 request with Connection: close. */
export function httpRequest(method: string, path: string, headers: Record<string, string>, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Resident set size of a process, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string;
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/** Builds a JWT by hand, so a test can make every mistake an attacker would try. */
export function forgeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  sign: { es256?: crypto.KeyObject | string; hs256?: string | Buffer } = {},
): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  let signature = '';
  if (sign.es256) signature = crypto.sign('sha256', Buffer.from(input), { key: crypto.createPrivateKey(sign.es256 as string), dsaEncoding: 'ieee-p1363' }).toString('base64url');
  if (sign.hs256) signature = crypto.createHmac('sha256', sign.hs256).update(input).digest('base64url');
  return `${input}.${signature}`;
}

/** The daemon's current token signing key, read from its data directory (what a thief of the disk has). */
export function signingKeyOf(dataDir: string): { kid: string; privatePem: string; publicPem: string } {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const dir = path.join(dataDir, 'keys');
  const file = fs.readdirSync(dir).filter((f) => /^signing-\d+\.pem$/.test(f)).sort().pop()!;
  const privatePem = fs.readFileSync(path.join(dir, file), 'utf8');
  const publicKey = crypto.createPublicKey(privatePem);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = crypto.createHash('sha256').update(der).digest('base64url').slice(0, 16);
  return { kid, privatePem, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** A request sent in parts over its own connection: headers and some body now, the rest when the test says. */
export interface HeldRequest {
  /** Sends more of the body. */
  send(bytes: string | Buffer): void;
  /** The answer once the server closes the connection; status 0 when none came (a reset or a close without an answer). */
  response: Promise<RawResponse & { error?: string }>;
}

/** Opens a connection (TLS with `secure`), from `localAddress` when given, and writes `first`; see HeldRequest. */
export function heldRequest(port: number, first: string | Buffer, options: { secure?: { ca: string }; localAddress?: string } = {}): HeldRequest {
  const base = { host: '127.0.0.1', port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
  const socket = options.secure ? tls.connect({ ...base, ca: options.secure.ca, servername: 'localhost' }) : net.connect(base);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const response = new Promise<RawResponse & { error?: string }>((resolve) => {
    let error: string | undefined;
    socket.once('error', (e) => (error = e.message));
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0) || 0, headers, body: rest.join('\r\n\r\n'), error });
    });
  });
  socket.write(first);
  return {
    send: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    response,
  };
}

/**
 * Sends bytes as written and resolves with the status line's code as soon as the answer's head
 * has arrived (then drops the connection: a 101 or a stream would never end on its own);
 * status 0 when the server closed without an answer, -1 when none came within `timeoutMs`.
 */
export function rawHead(
  port: number,
  request: string | Buffer,
  options: { secure?: { ca: string }; localAddress?: string; timeoutMs?: number } = {},
): Promise<{ status: number; head: string }> {
  return new Promise((resolve) => {
    const base = { host: '127.0.0.1', port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    const socket = options.secure ? tls.connect({ ...base, ca: options.secure.ca, servername: 'localhost' }) : net.connect(base);
    let text = '';
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, head: text.split('\r\n\r\n')[0] });
    };
    const timer = setTimeout(() => finish(-1), options.timeoutMs ?? 10_000);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes('\r\n\r\n')) finish(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0));
    });
    socket.on('error', () => undefined);
    socket.once('close', () => finish(text ? Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0) : 0));
    socket.write(request);
  });
}
