import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { httpRequest, rawRequest } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { pair } from '../helpers/phone';

// Issue 11, item 7: the 4 s authentication deadline was socket.io's connect timeout, which
// stops at the first namespace a client joins; the main namespace had no auth, so `io(url)`
// stayed connected for ever. Now only /device accepts sockets, every connection that has not
// authenticated within the deadline is closed (as is one whose /device socket left), and
// engine.io long-polling is off.

/** ms the daemon gives a connection to authenticate (SOCKET_AUTH_TIMEOUT_MS), plus slack for a busy machine. */
const DEADLINE_MS = 4_000;
const SLACK_MS = 3_000;

let daemon: RunningDaemon;

/** The close time, or Infinity when the connection is still open well past the deadline. */
function within(closed: Promise<number>): Promise<number> {
  return Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), DEADLINE_MS + 2 * SLACK_MS))]);
}

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

/** A raw engine.io WebSocket that answers pings (as any live client does) and records frames. */
function engineSocket() {
  const ws = new WebSocket(`wss://localhost:${daemon.runtime.gatewayPort}/socket.io/?EIO=4&transport=websocket`, { ca: daemon.caPem });
  const frames: string[] = [];
  const opened = Date.now();
  let closedAfterMs: number | undefined;
  ws.on('message', (d) => {
    const frame = d.toString();
    frames.push(frame);
    if (frame === '2') ws.send('3');
  });
  const closed = new Promise<number>((resolve) => ws.on('close', () => resolve((closedAfterMs = Date.now() - opened))));
  ws.on('error', () => undefined);
  const next = (match: RegExp, ms = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = frames.find((f) => match.test(f));
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no frame matching ${match}; saw ${JSON.stringify(frames)}`)), ms);
      const onMessage = (d: WebSocket.RawData) => {
        if (!match.test(d.toString())) return;
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve(d.toString());
      };
      ws.on('message', onMessage);
    });
  return { ws, frames, closed, next, closedAfter: () => closedAfterMs };
}

test('io(url) on the main namespace is refused, and its connection closed by the deadline', async () => {
  const socket = io(daemon.gatewayUrl, { ca: daemon.caPem, transports: ['websocket'], reconnection: false, forceNew: true });
  const outcome = new Promise<string | undefined>((resolve) => {
    socket.on('connect', () => resolve('connected'));
    socket.on('connect_error', (e) => resolve((e as { data?: { code?: string } }).data?.code));
  });
  const started = Date.now();
  const engineClosed = new Promise<number>((resolve) => socket.io.on('close', () => resolve(Date.now() - started)));
  try {
    expect(await outcome).toBe('namespace_refused');
    expect(await within(engineClosed)).toBeLessThanOrEqual(DEADLINE_MS + SLACK_MS);
  } finally {
    socket.close();
  }
});

test('a raw client joining the main namespace is refused and closed within the deadline', async () => {
  const c = engineSocket();
  await c.next(/^0\{"sid"/);
  c.ws.send('40');
  expect(await c.next(/^4[04]/)).toMatch(/^44.*namespace_refused/);
  expect(await within(c.closed)).toBeLessThanOrEqual(DEADLINE_MS + SLACK_MS);
});

test('a device that authenticated, then left /device, does not keep the connection', async () => {
  const { accessToken } = await pair(daemon, 'leaver');
  const c = engineSocket();
  await c.next(/^0\{"sid"/);
  c.ws.send(`40/device,${JSON.stringify({ token: accessToken })}`);
  await c.next(/^40\/device,\{"sid"/);
  c.ws.send('41/device,');
  // Closed right away (the deadline has no say over an authenticated connection): well within it.
  expect(await within(c.closed)).toBeLessThanOrEqual(DEADLINE_MS + SLACK_MS);
});

test('an authenticated device stays connected past the deadline', async () => {
  const { accessToken } = await pair(daemon, 'stayer');
  const c = engineSocket();
  await c.next(/^0\{"sid"/);
  c.ws.send(`40/device,${JSON.stringify({ token: accessToken })}`);
  await c.next(/^40\/device,\{"sid"/);
  // Sentinel: a connection opened after this one, never authenticating, is closed by the deadline first.
  const idle = engineSocket();
  await idle.closed;
  expect(c.closedAfter()).toBeUndefined();
  c.ws.close();
});

test('engine.io long-polling is off', async () => {
  const polling = await rawRequest(
    daemon.runtime.gatewayPort,
    httpRequest('GET', '/socket.io/?EIO=4&transport=polling', { Host: `localhost:${daemon.runtime.gatewayPort}` }),
    { ca: daemon.caPem },
  );
  expect(polling.status).toBe(400);
  expect(polling.body).not.toMatch(/"sid"/);
});
