import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { createToken } from '../helpers/compat';
import { heldRequest } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { requestFrom } from '../helpers/from-address';
import { Phone } from '../helpers/phone';
import { parseMetrics, value } from '../helpers/metrics';
import { startBalancer, v1Header, v2Header, type Balancer } from '../helpers/proxy-balancer';

// Behind a TCP load balancer every phone arrives from the balancer's address. With the PROXY
// protocol accepted from that balancer (gateway.proxyProtocol.from), budgets, blocks and the
// audit trail see each phone's own address; a PROXY header from anyone else is refused, so no
// client can claim an address; a balancer that sends no header is cut.

const PAIRING_ATTEMPTS = 2;
const PER_IP_PER_MIN = 8;
const HEADER_TIMEOUT_MS = 1_000;
const STREAMS_PER_ADDRESS = 2;

let daemon: RunningDaemon;
let balancer: Balancer;
/** What the balancer's next connection opens with: a function of the phone address the test plays. */
let nextHeader: () => Buffer | null = () => null;

beforeAll(async () => {
  daemon = await startDaemon({
    config: {
      gateway: { proxyProtocol: { from: ['127.0.0.1'], headerTimeoutMs: HEADER_TIMEOUT_MS } },
      rateLimits: { gatewayPerIpPerMin: PER_IP_PER_MIN, blockAfterViolations: 2, pairingAttempts: PAIRING_ATTEMPTS },
      compat: { streamsPerAddress: STREAMS_PER_ADDRESS },
    },
  });
  balancer = await startBalancer(daemon.runtime.gatewayPort, () => nextHeader());
}, 60_000);

afterAll(async () => {
  await balancer?.close();
  await daemon?.stop();
});

/** One HTTPS request through the balancer, as the phone at `phone` (a v1 header, or v2 when asked). */
function viaBalancer(phone: string, method: string, path: string, body?: unknown, version: 1 | 2 = 1): Promise<{ status: number; code?: string; body?: any }> {
  nextHeader = () => (version === 1 ? v1Header(phone) : v2Header(phone));
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: balancer.port,
        method,
        path,
        agent: false,
        ca: daemon.caPem,
        servername: 'localhost',
        headers: { host: `localhost:${daemon.runtime.gatewayPort}`, ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => {
          let parsed: any;
          try {
            parsed = JSON.parse(data);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, code: parsed?.error?.code, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** Opens an ntfy subscriber stream through the balancer as `phone`: its status once the head arrives, and a close. */
function streamVia(phone: string, token: string): Promise<{ status: number; close(): void }> {
  nextHeader = () => v1Header(phone);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: balancer.port, path: '/proxied/json', agent: false, ca: daemon.caPem, servername: 'localhost', headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A socket.io WebSocket upgrade through the balancer as `phone`: 101 when opened, else the refusal's status. */
function upgradeVia(phone: string): Promise<number> {
  nextHeader = () => v2Header(phone);
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://localhost:${balancer.port}/socket.io/?EIO=4&transport=websocket`, { ca: daemon.caPem });
    ws.on('upgrade', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => resolve(0));
  });
}

/**
 * Opens a TCP connection (from `localAddress`), writes `header` (in `chunk`-byte writes, each
 * after the last has left), then tries TLS and `request` (GET /health by default): the answer's
 * status, or 0 when the server closed first. `ca`: another daemon's CA (default: the shared daemon's).
 */
function headerThenTls(port: number, header: Buffer, localAddress: string, options: { chunk?: number; request?: string; ca?: string } = {}): Promise<number> {
  const request = options.request ?? `GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve) => {
    const raw = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true }, async () => {
      const size = options.chunk ?? Math.max(1, header.length);
      for (let i = 0; i < header.length; i += size) {
        await new Promise((done) => raw.write(header.subarray(i, i + size), done));
        await new Promise((done) => setImmediate(done));
      }
      const secure = tls.connect({ socket: raw, ca: options.ca ?? daemon.caPem, servername: 'localhost' }, () => secure.write(request));
      let text = '';
      secure.on('data', (c: Buffer) => (text += c.toString()));
      secure.on('error', () => undefined);
      secure.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0)));
    });
    raw.on('error', () => resolve(0));
  });
}

const pairingCode = async () => (await daemon.admin('POST', '/api/v1/pairings')).body.code as string;
const wrongCode = () => crypto.randomInt(0, 1e8).toString().padStart(8, '0');
const pair = (phone: string, code: string, version: 1 | 2 = 1) => viaBalancer(phone, 'POST', '/api/v1/pair', { code, name: 'phone', platform: 'test' }, version);

async function auditActors(event: string): Promise<string[]> {
  const entries = (await daemon.admin('GET', '/api/v1/audit?limit=500')).body as { event: string; actor: string }[];
  return entries.filter((e) => e.event === event).map((e) => e.actor);
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  return value(parseMetrics((await daemon.admin('GET', '/metrics')).text), name, labels) ?? 0;
}

test('/health answers through the balancer, for a phone and for the balancer’s own LOCAL check', async () => {
  expect((await viaBalancer('198.51.100.1', 'GET', '/health')).status).toBe(200);
  nextHeader = () => v2Header('local');
  const local = await new Promise<number>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: balancer.port, path: '/health', agent: false, ca: daemon.caPem, servername: 'localhost' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  expect(local).toBe(200);
});

test('a 120 KiB file of the phone app arrives byte for byte through the balancer (many TLS records after the header)', async () => {
  nextHeader = () => v2Header('198.51.100.2');
  const body = await new Promise<Buffer>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: balancer.port, path: '/vendor/markdown-it.esm.min.js', agent: false, ca: daemon.caPem, servername: 'localhost' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      })
      .on('error', reject);
  });
  const file = fs.readFileSync(path.join(__dirname, '..', '..', 'dist', 'app', 'web', 'phone', 'vendor', 'markdown-it.esm.min.js'));
  expect(file.length).toBeGreaterThan(100_000);
  expect(body.equals(file)).toBe(true);
});

test('pairing failures spend the phone’s own budget: X is refused while Y, through the same balancer, is served', async () => {
  const X = '198.51.100.10';
  const Y = '2001:db8:5::20';
  for (let i = 0; i < PAIRING_ATTEMPTS; i++) expect((await pair(X, wrongCode())).status).toBe(401);
  expect(await pair(X, wrongCode())).toMatchObject({ status: 429, code: 'rate_limited' });
  // Y shares the balancer's TCP address with X, not its budget (and speaks v2).
  expect((await pair(Y, wrongCode(), 2)).status).toBe(401);
  expect((await pair(Y, await pairingCode(), 2)).status).toBe(201);
  expect(await pair(X, await pairingCode())).toMatchObject({ status: 429 });

  // The audit trail (one pairing_failed per address per window) names the phones, never the balancer.
  const failed = await auditActors('pairing_failed');
  expect(failed).toContain(`ip:${X}`);
  expect(failed).toContain(`ip:${Y}`);
  expect(failed).not.toContain('ip:127.0.0.1');
});

test('the per-IP gate and its block apply per phone: Z is blocked, for requests and WebSocket upgrades, while W is served', async () => {
  const Z = '198.51.100.30';
  const W = '198.51.100.40';
  const statuses: string[] = [];
  for (let i = 0; i < PER_IP_PER_MIN + 10 && statuses.at(-1) !== 'ip_blocked'; i++) {
    const answer = await viaBalancer(Z, 'GET', '/health');
    statuses.push(answer.code ?? String(answer.status));
  }
  expect(statuses.slice(0, PER_IP_PER_MIN)).toEqual(Array(PER_IP_PER_MIN).fill('200'));
  expect(statuses).toContain('rate_limited');
  expect(statuses.at(-1)).toBe('ip_blocked');

  expect(await upgradeVia(Z)).toBe(429);
  expect((await viaBalancer(W, 'GET', '/health')).status).toBe(200);
  expect(await upgradeVia(W)).toBe(101);
});

test('a header arriving one byte at a time is read whole, and the phone it names is the one the budget sees', async () => {
  const Q = '2001:db8:77::1';
  const body = JSON.stringify({ code: wrongCode(), name: 'phone', platform: 'test' });
  const request = `POST /api/v1/pair HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  for (const header of [v1Header(Q), v2Header(Q, 40000, Buffer.from([0x04, 0x00, 0x02, 0xab, 0xcd]))]) {
    expect(await headerThenTls(daemon.runtime.gatewayPort, header, '127.0.0.1', { chunk: 1, request })).toBe(401);
  }
  expect(await auditActors('pairing_failed')).toContain(`ip:${Q}`);
});

test('a paired phone connected through the balancer receives its notifications', async () => {
  // Paired through the balancer too: a direct connection from 127.0.0.1 (a listed balancer) without a header is cut.
  const paired = await pair('198.51.100.80', await pairingCode(), 2);
  expect(paired.status).toBe(201);
  const phone = new Phone(paired.body);
  nextHeader = () => v2Header('198.51.100.80');
  // The same daemon, reached through the balancer's port.
  const viaLb = Object.create(daemon, { gatewayUrl: { value: `https://localhost:${balancer.port}` } }) as RunningDaemon;
  await phone.connect(viaLb);
  try {
    expect((await daemon.admin('POST', '/api/v1/notifications', { title: 'through', body: 'the balancer' })).status).toBe(202);
    expect((await phone.withBody('the balancer')).title).toBe('through');
  } finally {
    phone.disconnect();
  }
});

test('a socket.io handshake with a bad token through the balancer is audited under the phone’s address', async () => {
  const V = '198.51.100.70';
  nextHeader = () => v1Header(V);
  const socket = io(`https://localhost:${balancer.port}/device`, { transports: ['websocket'], ca: daemon.caPem, auth: { token: 'not-a-token' }, reconnection: false });
  try {
    await new Promise<void>((resolve) => socket.once('connect_error', () => resolve()));
  } finally {
    socket.close();
  }
  expect(await auditActors('auth_failed')).toContain(`ip:${V}`);
});

test('ntfy stream slots are held per phone: P1 at its cap is refused while P2 opens one', async () => {
  const { token } = await createToken(daemon, 'subscribe');
  const streams = [];
  for (let i = 0; i < STREAMS_PER_ADDRESS; i++) streams.push(await streamVia('198.51.100.50', token));
  try {
    expect(streams.map((s) => s.status)).toEqual(Array(STREAMS_PER_ADDRESS).fill(200));
    const refused = await streamVia('198.51.100.50', token);
    streams.push(refused);
    expect(refused.status).toBe(429);
    const other = await streamVia('198.51.100.51', token);
    streams.push(other);
    expect(other.status).toBe(200);
  } finally {
    for (const s of streams) s.close();
  }
});

test('a phone whose TLS fails behind the balancer is closed, not left holding the connection', async () => {
  nextHeader = () => v1Header('198.51.100.60');
  const answer = await heldRequest(balancer.port, 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n').response;
  expect(answer.status).toBe(0);
});

test('an unlisted address sending a PROXY header is refused and never served under the address it claims', async () => {
  const claimed = '203.0.113.66';
  const before = await metric('beep_proxy_protocol_refused_total', { reason: 'unlisted_sender' });
  // 127.0.0.2 is not in gateway.proxyProtocol.from: its header claims an address it does not have.
  expect(await headerThenTls(daemon.runtime.gatewayPort, v1Header(claimed), '127.0.0.2')).toBe(0);
  expect(await headerThenTls(daemon.runtime.gatewayPort, v2Header(claimed), '127.0.0.2')).toBe(0);
  expect(await metric('beep_proxy_protocol_refused_total', { reason: 'unlisted_sender' })).toBe(before + 2);
  // The same address without a header is served as before, under its own address.
  expect((await requestFrom(daemon, 'gateway', 'GET', '/health', { from: '127.0.0.2' })).status).toBe(200);
  // Logged once for the address, not once per connection.
  expect(daemon.logs().split('\n').filter((l) => l.includes('refused by the PROXY protocol front') && l.includes('127.0.0.2'))).toHaveLength(1);
});

test('a listed balancer that sends no header, or starts TLS without one, is cut', async () => {
  const timeouts = await metric('beep_proxy_protocol_refused_total', { reason: 'header_timeout' });
  const silent = net.connect({ host: '127.0.0.1', port: daemon.runtime.gatewayPort });
  silent.on('error', () => undefined);
  await new Promise((resolve) => silent.once('close', resolve));
  expect(await metric('beep_proxy_protocol_refused_total', { reason: 'header_timeout' })).toBe(timeouts + 1);

  const bad = await metric('beep_proxy_protocol_refused_total', { reason: 'bad_header' });
  expect(await headerThenTls(daemon.runtime.gatewayPort, Buffer.alloc(0), '127.0.0.1')).toBe(0);
  expect(await headerThenTls(daemon.runtime.gatewayPort, Buffer.from('PROXY TCP4 1.2.3.4 nonsense\r\n'), '127.0.0.1')).toBe(0);
  expect(await metric('beep_proxy_protocol_refused_total', { reason: 'bad_header' })).toBe(bad + 2);
});

describe('with another balancer configured', () => {
  let other: RunningDaemon;
  beforeAll(async () => {
    other = await startDaemon({ config: { gateway: { proxyProtocol: { from: ['10.255.255.1'] } } } });
  }, 60_000);
  afterAll(async () => {
    await other?.stop();
  });

  test('a direct connection with a PROXY header claiming another address is closed; without one it is served', async () => {
    for (const header of [v1Header('10.1.2.3'), v2Header('10.1.2.3'), v2Header('local')]) {
      expect(await headerThenTls(other.runtime.gatewayPort, header, '127.0.0.1', { ca: other.caPem })).toBe(0);
    }
    const refused = value(parseMetrics((await other.admin('GET', '/metrics')).text), 'beep_proxy_protocol_refused_total', { reason: 'unlisted_sender' });
    expect(refused).toBe(3);
    expect((await requestFrom(other, 'gateway', 'GET', '/health')).status).toBe(200);
  });
});

describe('stopping with a balancer connection that has not sent its header', () => {
  test('the stop closes it at once instead of waiting out the header deadline', async () => {
    const slow = await startDaemon({ config: { gateway: { proxyProtocol: { from: ['127.0.0.1'], headerTimeoutMs: 60_000 } } } });
    const silent = net.connect({ host: '127.0.0.1', port: slow.runtime.gatewayPort });
    silent.on('error', () => undefined);
    const closed = new Promise((resolve) => silent.once('close', resolve));
    await new Promise((resolve) => silent.once('connect', resolve));
    // A sentinel request through the same listener: the silent connection is accepted and pending by now.
    expect((await requestFrom(slow, 'gateway', 'GET', '/health', { from: '127.0.0.3' })).status).toBe(200);
    expect(await slow.stop()).toBe(0);
    await closed;
  }, 40_000);
});

describe('connection caps behind the balancer', () => {
  const PER_ADDRESS = 2;
  let capped: RunningDaemon;
  const held: net.Socket[] = [];
  beforeAll(async () => {
    capped = await startDaemon({ config: { gateway: { proxyProtocol: { from: ['127.0.0.1'] }, connections: { perAddress: PER_ADDRESS, perSecond: 100, burst: 100 } } } });
  }, 60_000);
  afterAll(async () => {
    for (const s of held) s.destroy();
    await capped?.stop();
  });

  /** A connection through the balancer as `phone`, held open once its TLS handshake is done. */
  function holdAs(phone: string): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const raw = net.connect({ host: '127.0.0.1', port: capped.runtime.gatewayPort }, () => {
        raw.write(v1Header(phone));
        const secure = tls.connect({ socket: raw, ca: capped.caPem, servername: 'localhost' }, () => resolve(secure));
        secure.on('error', reject);
        held.push(secure);
      });
      held.push(raw);
    });
  }

  test('a phone at its cap is cut while another phone through the same balancer is served', async () => {
    for (let i = 0; i < PER_ADDRESS; i++) await holdAs('198.51.100.50');
    const ca = capped.caPem;
    expect(await headerThenTls(capped.runtime.gatewayPort, v1Header('198.51.100.50'), '127.0.0.1', { ca })).toBe(0);
    expect(await headerThenTls(capped.runtime.gatewayPort, v1Header('198.51.100.51'), '127.0.0.1', { ca })).toBe(200);
  });

  test('an unlisted client’s silent connections count against its cap from the moment they are accepted', async () => {
    for (let i = 0; i < PER_ADDRESS; i++) {
      const silent = net.connect({ host: '127.0.0.1', port: capped.runtime.gatewayPort, localAddress: '127.0.0.5' });
      silent.on('error', () => undefined);
      held.push(silent);
      await new Promise((resolve) => silent.once('connect', resolve));
    }
    // A sentinel from another address: the silent ones are accepted by now.
    expect((await requestFrom(capped, 'gateway', 'GET', '/health', { from: '127.0.0.6' })).status).toBe(200);
    expect(await headerThenTls(capped.runtime.gatewayPort, Buffer.alloc(0), '127.0.0.5', { ca: capped.caPem })).toBe(0);
    expect(await headerThenTls(capped.runtime.gatewayPort, Buffer.alloc(0), '127.0.0.6', { ca: capped.caPem })).toBe(200);
  });
});
