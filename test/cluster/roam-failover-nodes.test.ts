import tls from 'node:tls';
import WebSocket from 'ws';
import { httpRequest, rawRequest } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { RedisServer } from '../helpers/redis-server';
import { joiningDataDir, nodeConfig, startPair, type NodePair } from './two-nodes';

// The node list ([roam]): pairing and refresh answers carry the gateway URL of every node alive
// now, read from the node registry, so a phone learns a node that joined at its next refresh and
// forgets one that stopped. Embedded mode answers with its one gateway.

jest.setTimeout(180_000);

interface Answer {
  refreshToken: string;
  nodes: { url: string; id: string }[];
}

let redis: RedisServer;
let nodes: NodePair;
let c: RunningDaemon | undefined;
let embedded: RunningDaemon | undefined;

beforeAll(async () => {
  redis = await RedisServer.start();
  nodes = await startPair(redis, 0);
});

afterAll(async () => {
  for (const node of [nodes?.a, nodes?.b, c, embedded]) if (node && node.proc.exitCode === null) await node.kill();
  await redis.stop();
});

/** Whether `node`'s gateway certificate verifies for `servername` under the cluster's CA. */
function certificateNames(node: RunningDaemon, servername: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: node.runtime.gatewayPort, servername, ca: node.caPem }, () => {
      resolve(socket.authorized);
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** Pairs a phone through `via` and returns the answer. */
async function pairThrough(code: RunningDaemon, via: RunningDaemon): Promise<Answer> {
  const made = await code.admin('POST', '/api/v1/pairings');
  expect(made.status).toBe(201);
  const paired = await via.gateway<Answer>('POST', '/api/v1/pair', { code: made.body.code, name: 'roamer', platform: 'test' });
  expect(paired.status).toBe(201);
  return paired.body;
}

/** Refreshes through `via` until the answer's URLs satisfy `ok` (each refresh rotates the token). */
async function refreshUntil(via: RunningDaemon, answer: Answer, ok: (urls: string[]) => boolean, what: string): Promise<Answer> {
  const deadline = Date.now() + 60_000;
  for (let current = answer; ; ) {
    const res = await via.gateway<Answer>('POST', '/api/v1/token', { refreshToken: current.refreshToken });
    expect(res.status).toBe(200);
    current = res.body;
    if (ok(current.nodes.map((n) => n.url))) return current;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last list ${JSON.stringify(current.nodes)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('the pairing and refresh answers list A and B; a third node appears at the next refresh and leaves when stopped cleanly', async () => {
  const { a, b } = nodes;
  const paired = await pairThrough(a, a);
  const urls = (x: Answer) => x.nodes.map((n) => n.url).sort();
  expect(urls(paired)).toEqual([a.gatewayUrl, b.gatewayUrl].sort());
  // The answering node first; each entry names its node.
  expect(paired.nodes[0].url).toBe(a.gatewayUrl);
  expect(paired.nodes.every((n) => typeof n.id === 'string' && n.id.length > 0)).toBe(true);
  expect(new Set(paired.nodes.map((n) => n.id)).size).toBe(2);

  // Refreshing through B: both, B first.
  let answer = await refreshUntil(b, paired, (list) => list.length === 2, 'two nodes');
  expect(answer.nodes[0].url).toBe(b.gatewayUrl);
  expect(answer.nodes.map((n) => n.url).sort()).toEqual([a.gatewayUrl, b.gatewayUrl].sort());

  // C joins, behind a name of its own (gateway.publicUrl): the next refresh (it heartbeats before
  // it says it is running) lists it by that URL, its pairing links carry it, its certificate names it.
  const cUrl = 'https://beep-c.lan:8443';
  c = await startDaemon({ dataDir: joiningDataDir(a.dataDir), env: { BEEP_REDIS_URL: redis.url, BEEP_LOG_LEVEL: 'info' }, config: nodeConfig({ gateway: { publicUrl: cUrl } }) });
  const joined = c;
  answer = await refreshUntil(a, answer, (list) => list.includes(cUrl), 'C in the list');
  expect(urls(answer)).toEqual([a.gatewayUrl, b.gatewayUrl, cUrl].sort());
  expect(answer.nodes.find((n) => n.url === cUrl)!.id).toBe((joined.runtime as unknown as { nodeId: string }).nodeId);
  expect((await joined.admin('POST', '/api/v1/pairings')).body.url).toMatch(/^https:\/\/beep-c\.lan:8443\/#code=\d{8}&fp=/);
  expect(await certificateNames(joined, 'beep-c.lan')).toBe(true);

  // C stops cleanly: it leaves the registry, so the list no longer carries it.
  expect(await joined.stop()).toBe(0);
  answer = await refreshUntil(b, answer, (list) => !list.includes(cUrl), 'C gone from the list');
  expect(urls(answer)).toEqual([a.gatewayUrl, b.gatewayUrl].sort());
});

/** A raw socket.io WebSocket handshake to `node` with an Origin header: the first frame, or the refusal. */
function handshake(node: RunningDaemon, origin: string): Promise<{ frame?: string; error?: string }> {
  const ws = new WebSocket(`wss://localhost:${node.runtime.gatewayPort}/socket.io/?EIO=4&transport=websocket`, { ca: node.caPem, headers: { Origin: origin } });
  return new Promise((resolve) => {
    ws.once('message', (d) => {
      resolve({ frame: d.toString() });
      ws.close();
    });
    ws.once('error', (e) => resolve({ error: e.message }));
  });
}

/** A request to `node`'s gateway with an Origin header: its status and CORS grant. */
async function fromOrigin(node: RunningDaemon, method: string, urlPath: string, origin: string): Promise<{ status: number; grant: unknown }> {
  const host = `localhost:${node.runtime.gatewayPort}`;
  const extra: Record<string, string> = method === 'OPTIONS' ? { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } : {};
  const res = await rawRequest(node.runtime.gatewayPort, httpRequest(method, urlPath, { Host: host, Origin: origin, ...extra }), { ca: node.caPem });
  return { status: res.status, grant: res.headers['access-control-allow-origin'] };
}

test("a node lets the cluster's other gateways' pages connect, check its CA and refresh; any other origin gets nothing", async () => {
  const { a, b } = nodes;
  const evil = 'https://evil.example';
  // The attack first: a page from a foreign origin (or a look-alike of A) is refused everywhere.
  for (const origin of [evil, `https://localhost:${a.runtime.gatewayPort + 1}`, 'null']) {
    expect((await handshake(b, origin)).error).toMatch(/Unexpected server response: 40[03]/);
    expect((await fromOrigin(b, 'OPTIONS', '/api/v1/token', origin)).grant).toBeUndefined();
    expect((await fromOrigin(b, 'GET', '/ca.crt', origin)).grant).toBeUndefined();
  }
  expect((await fromOrigin(b, 'OPTIONS', '/api/v1/pair', a.gatewayUrl)).grant).toBeUndefined();
  // A's page on B (B read A's origin at its heartbeat): the handshake is served, the CA and the refresh are granted to A's origin only.
  await refreshUntilOrigin(b, a.gatewayUrl);
  expect((await handshake(b, a.gatewayUrl)).frame).toMatch(/^0\{"sid"/);
  expect(await fromOrigin(b, 'OPTIONS', '/api/v1/token', a.gatewayUrl)).toEqual({ status: 204, grant: a.gatewayUrl });
  expect((await fromOrigin(b, 'GET', '/ca.crt', a.gatewayUrl)).grant).toBe(a.gatewayUrl);
  // Its page names the other gateways in connect-src, and nothing broader.
  const page = await rawRequest(b.runtime.gatewayPort, httpRequest('GET', '/', { Host: `localhost:${b.runtime.gatewayPort}` }), { ca: b.caPem });
  const connectSrc = /connect-src ([^;]*)/.exec(String(page.headers['content-security-policy']))![1].split(' ');
  expect(connectSrc).toEqual(expect.arrayContaining(["'self'", a.gatewayUrl, `wss://localhost:${a.runtime.gatewayPort}`]));
  expect(connectSrc.every((s) => s === "'self'" || /^(https|wss):\/\/localhost:\d+$/.test(s))).toBe(true);
});

/** Waits until `node` allows `origin` (its heartbeat reads the cluster's gateway origins). */
async function refreshUntilOrigin(node: RunningDaemon, origin: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await fromOrigin(node, 'GET', '/ca.crt', origin)).grant !== origin) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${origin} to be allowed`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('embedded mode answers with its one gateway', async () => {
  embedded = await startDaemon();
  const paired = await pairThrough(embedded, embedded);
  expect(paired.nodes).toEqual([{ url: embedded.gatewayUrl, id: expect.any(String) }]);
  const refreshed = await embedded.gateway<Answer>('POST', '/api/v1/token', { refreshToken: paired.refreshToken });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.nodes).toEqual(paired.nodes);
});
