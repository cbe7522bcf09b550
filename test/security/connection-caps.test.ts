import net from 'node:net';
import tls from 'node:tls';
import { tlsHandshake } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// Issue 11, "Connections, not just requests": per-address caps on concurrent connections and
// on the rate of new ones, applied before the TLS handshake; header, request, keep-alive and
// TLS-handshake timeouts. Small limits here keep the test short; each source address on Linux
// loopback (127.0.0.0/8) counts as a client of its own.

let daemon: RunningDaemon;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  daemon = await startDaemon({
    config: {
      gateway: {
        connections: { perAddress: 5, perSecond: 2, burst: 12 },
        timeouts: { tlsHandshakeMs: 1000, headersMs: 1000, requestMs: 2000, keepAliveMs: 1000 },
      },
    },
  });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await daemon?.stop();
});

/** TLS options for a source address (net.connect's localAddress; tls.connect passes it on, its types do not list it). */
function from(localAddress: string): tls.ConnectionOptions {
  return { localAddress } as unknown as tls.ConnectionOptions;
}

/** A raw TCP connection from `localAddress`; resolves once connected. */
function tcp(localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: daemon.runtime.gatewayPort, localAddress }, () => resolve(s));
    s.once('error', reject);
    sockets.push(s);
  });
}

/** ms until the server closes `s`, or Infinity past `within`. */
function closedWithin(s: net.Socket | tls.TLSSocket, within: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Infinity), within);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
    s.on('error', () => undefined);
  });
}

test('an address holds at most perAddress connections; others are unaffected; a closed one frees a place', async () => {
  const held = await Promise.all(Array.from({ length: 5 }, () => tcp('127.0.0.11')));
  // The sixth from the same address is dropped before any TLS work: the handshake fails.
  await expect(tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem, from('127.0.0.11'))).rejects.toThrow(/ECONNRESET|socket disconnected|EPIPE/);
  // Another address is served.
  await expect(tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem, from('127.0.0.12'))).resolves.toMatchObject({ version: 'TLSv1.3' });
  held[0].destroy();
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem, from('127.0.0.11')).then(() => true, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('a closed connection never freed its place');
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const s of held) s.destroy();
});

test('new connections per address are rate limited (burst, then perSecond)', async () => {
  const results: boolean[] = [];
  for (let i = 0; i < 16; i++) {
    results.push(await tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem, from('127.0.0.13')).then(() => true, () => false));
  }
  // The burst of 12 passes (a refill of a token or two may add one), then refusals.
  expect(results.slice(0, 12).every(Boolean)).toBe(true);
  expect(results.slice(12).filter((ok) => !ok).length).toBeGreaterThanOrEqual(2);
  const metrics = await daemon.admin('GET', '/metrics');
  expect(metrics.text).toMatch(/beep_rate_limited_total\{scope="connection_rate"\} [1-9]/);
  expect(metrics.text).toMatch(/beep_rate_limited_total\{scope="connection_count"\} [1-9]/);
});

test('a connection that never completes its TLS handshake is closed after tlsHandshakeMs', async () => {
  const s = await tcp('127.0.0.14');
  expect(await closedWithin(s, 10_000)).toBeLessThan(5_000);
});

test('a request whose headers never complete is closed after headersMs (slowloris)', async () => {
  const s = tls.connect({ host: '127.0.0.1', port: daemon.runtime.gatewayPort, ca: daemon.caPem, servername: 'localhost', ...from('127.0.0.15') });
  await new Promise<void>((resolve, reject) => (s.once('secureConnect', () => resolve()), s.once('error', reject)));
  s.write(`GET /ca.crt HTTP/1.1\r\nHost: localhost:${daemon.runtime.gatewayPort}\r\nX-Slow: `);
  const answer: Buffer[] = [];
  s.on('data', (d: Buffer) => answer.push(d));
  // Keep trickling one header byte a second, as slowloris does: the deadline is on the whole head.
  const trickle = setInterval(() => s.writable && s.write('a'), 300);
  try {
    expect(await closedWithin(s, 10_000)).toBeLessThan(6_000);
  } finally {
    clearInterval(trickle);
  }
  expect(Buffer.concat(answer).toString()).toMatch(/^HTTP\/1\.1 408|^$/);
});

test('an idle keep-alive connection is closed after keepAliveMs', async () => {
  const s = tls.connect({ host: '127.0.0.1', port: daemon.runtime.gatewayPort, ca: daemon.caPem, servername: 'localhost', ...from('127.0.0.16') });
  await new Promise<void>((resolve, reject) => (s.once('secureConnect', () => resolve()), s.once('error', reject)));
  const got = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
  s.write(`GET /ca.crt HTTP/1.1\r\nHost: localhost:${daemon.runtime.gatewayPort}\r\n\r\n`);
  expect(await got).toMatch(/^HTTP\/1\.1 200/);
  expect(await closedWithin(s, 10_000)).toBeLessThan(5_000);
});
