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

  // C joins: the next refresh (it heartbeats before it says it is running) lists it.
  c = await startDaemon({ dataDir: joiningDataDir(a.dataDir), env: { BEEP_REDIS_URL: redis.url, BEEP_LOG_LEVEL: 'info' }, config: nodeConfig() });
  const joined = c;
  answer = await refreshUntil(a, answer, (list) => list.includes(joined.gatewayUrl), 'C in the list');
  expect(urls(answer)).toEqual([a.gatewayUrl, b.gatewayUrl, joined.gatewayUrl].sort());

  // C stops cleanly: it leaves the registry, so the list no longer carries it.
  expect(await joined.stop()).toBe(0);
  answer = await refreshUntil(b, answer, (list) => !list.includes(joined.gatewayUrl), 'C gone from the list');
  expect(urls(answer)).toEqual([a.gatewayUrl, b.gatewayUrl].sort());
});

test('embedded mode answers with its one gateway', async () => {
  embedded = await startDaemon();
  const paired = await pairThrough(embedded, embedded);
  expect(paired.nodes).toEqual([{ url: embedded.gatewayUrl, id: expect.any(String) }]);
  const refreshed = await embedded.gateway<Answer>('POST', '/api/v1/token', { refreshToken: paired.refreshToken });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.nodes).toEqual(paired.nodes);
});
