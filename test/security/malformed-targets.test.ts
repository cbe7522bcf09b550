import { httpRequest, rawRequest, type RawResponse } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// Issue 11, item 1: one unauthenticated request with a malformed target (a bad escape, an
// absolute-form target with a bad port) used to throw inside the 'upgrade' path and stop the
// daemon; plain requests answered 500 with a stack trace. Every such request now gets a 400 in
// the shape of the route family it aimed at, on both listeners, and the daemon keeps serving.

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

type Listener = 'gateway' | 'admin';

function send(listener: Listener, request: string): Promise<RawResponse> {
  return listener === 'gateway'
    ? rawRequest(daemon.runtime.gatewayPort, request, { ca: daemon.caPem })
    : rawRequest(daemon.runtime.adminPort, request);
}

function host(listener: Listener): string {
  return listener === 'gateway' ? `localhost:${daemon.runtime.gatewayPort}` : `127.0.0.1:${daemon.runtime.adminPort}`;
}

function upgrade(listener: Listener, target: string): Promise<RawResponse> {
  return send(
    listener,
    httpRequest('GET', target, {
      Host: host(listener),
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
    }).replace('Connection: close\r\n', ''),
  );
}

function plain(listener: Listener, target: string): Promise<RawResponse> {
  return send(listener, httpRequest('GET', target, { Host: host(listener), Authorization: `Bearer ${daemon.adminToken}` }));
}

/** The error's stable code, whichever family's shape it came in. */
function codeOf(body: string): { shape: 'beep' | 'ntfy' | 'gotify'; code: string } {
  const parsed = JSON.parse(body);
  if (parsed.error && typeof parsed.error === 'object') return { shape: 'beep', code: parsed.error.code };
  if (typeof parsed.http === 'number') return { shape: 'ntfy', code: parsed.beep_code };
  return { shape: 'gotify', code: parsed.beep_code };
}

async function stillServing(): Promise<void> {
  expect(daemon.proc.exitCode).toBeNull();
  expect((await daemon.admin('GET', '/health')).status).toBe(200);
  expect((await daemon.gateway('GET', '/ca.crt')).status).toBe(200);
}

const UPGRADES: [string, 'beep' | 'ntfy' | 'gotify'][] = [
  ['/%ZZ/ws', 'ntfy'],
  ['/%E0%A4%A/ws', 'ntfy'],
  ['http://a:99999/', 'beep'],
  ['http://a:99999/stream', 'beep'],
  ['/stream?token=%ZZ', 'gotify'],
  ['/socket.io/%ZZ?EIO=4&transport=websocket', 'beep'],
];

describe.each<Listener>(['gateway', 'admin'])('%s listener', (listener) => {
  test.each(UPGRADES)('a WebSocket upgrade to %s is answered (never a crash)', async (target, shape) => {
    const answer = await upgrade(listener, target);
    // `?token=%ZZ` is a well-formed query (URLSearchParams keeps it as is): the token is simply wrong.
    expect(answer.status).toBe(target.startsWith('/stream') ? 401 : 400);
    expect(codeOf(answer.body).shape).toBe(shape);
    await stillServing();
  });

  test.each([
    ['/%ZZ', 'ntfy'],
    ['/%ZZ/json', 'ntfy'],
    ['/%E0%A4%A', 'ntfy'],
    ['/js/%ZZ.js', 'beep'],
    ['/api/v1/devices/%ZZ', 'beep'],
    ['/message/%ZZ', 'gotify'],
    ['http://a:99999/', 'beep'],
  ])('GET %s → 400 in the %s shape, no stack trace', async (target, shape) => {
    const before = daemon.logs().length;
    const answer = await plain(listener, target);
    expect(answer.status).toBe(400);
    expect(codeOf(answer.body)).toEqual({ shape, code: 'validation_failed' });
    expect(answer.body).not.toMatch(/at .*\.js|URIError/);
    await stillServing();
    expect(daemon.logs().slice(before)).not.toMatch(/URIError|unexpected error/);
  });
});
