import Redis from 'ioredis';
import { Phone } from '../helpers/phone';
import { RedisServer } from '../helpers/redis-server';
import { createToken, HttpStream, send, until } from '../helpers/compat';
import type { RunningDaemon } from '../helpers/daemon';
import { post, startPair, type NodePair } from './two-nodes';

// Two real daemons A and B sharing one real redis-server: what one node accepts reaches the
// phones and subscribers of the other, in seq order within a priority, once; a client id is
// claimed once for the cluster; a node killed mid-burst loses nothing the other answered; the
// newest connection of a phone wins across nodes; a revoke on one node closes the socket on the
// other through a control event.

jest.setTimeout(120_000);

let redis: RedisServer;
let nodes: NodePair;
let client: Redis;
const stopped: RunningDaemon[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url);
  nodes = await startPair(redis, 4);
});

afterAll(async () => {
  client.disconnect();
  for (const node of [nodes?.a, nodes?.b, ...stopped]) if (node && node.proc.exitCode === null) await node.kill();
  await redis.stop();
});

/** The seq Redis gave a public id (its claim key holds it). */
async function seqOf(id: string): Promise<number> {
  return Number(await client.get(`beep:id:${id}`));
}

test('posts on A and on B reach a phone on B in seq order within each priority, each once', async () => {
  const { a, b } = nodes;
  // Each node says at start what it does not share (nothing now).
  for (const node of [a, b]) expect(node.logs()).toMatch(/cluster mode: node \S+; every store port is on Redis/);
  const phone = new Phone(nodes.phones[0]);
  await phone.connect(b);
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) => post(i % 2 === 0 ? a : b, { body: `order-${i}`, priority: (i % 3) + 2 })),
  );
  expect(answers.map((r) => r.status)).toEqual(answers.map(() => 202));
  const ids = answers.map((r) => r.body.id as string);
  await phone.waitFor(() => ids.every((id) => phone.unique.has(id)), 30_000, 'all 60 on the phone');
  await phone.sentinel(b);
  // Once: no id arrived twice.
  const arrived = phone.arrivals.filter((n) => ids.includes(n.id)).map((n) => n.id);
  expect(arrived.length).toBe(ids.length);
  // In seq order within each priority.
  for (const priority of [2, 3, 4]) {
    const seqs = await Promise.all(phone.arrivals.filter((n) => ids.includes(n.id) && n.priority === priority).map((n) => seqOf(n.id)));
    expect(seqs.length).toBe(20);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  }
  phone.disconnect();
});

test('the same client id posted to A and to B at once gives one notification', async () => {
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[1]);
  await phone.connect(a);
  const [onA, onB] = await Promise.all([post(a, { id: 'same-id-both-nodes', body: 'from A' }), post(b, { id: 'same-id-both-nodes', body: 'from B' })]);
  expect([onA.status, onB.status].sort()).toEqual([200, 202]);
  expect(onA.body.id).toBe('same-id-both-nodes');
  expect(onB.body.id).toBe('same-id-both-nodes');
  await phone.sentinel(b);
  expect(phone.arrivals.filter((n) => n.id === 'same-id-both-nodes')).toHaveLength(1);
  phone.disconnect();
});

test('an ntfy subscriber on B sees a publish made on A', async () => {
  const { a, b } = nodes;
  const sub = await createToken(b, 'subscribe', ['cluster-topic']);
  const stream = await HttpStream.open(`${b.adminUrl}/cluster-topic/json`, { authorization: `Bearer ${sub.token}` });
  expect(stream.status).toBe(200);
  const res = await post(a, { topic: 'cluster-topic', body: 'published on A' });
  expect(res.status).toBe(202);
  await until(() => stream.json.some((e) => e.event === 'message' && e.message === 'published on A'), 'the message on B', 20_000);
  stream.close();
});

test('Cache: no posted on A is owed to a phone connected to B (the cluster\'s connected phones, not A\'s)', async () => {
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[1]);
  await phone.connect(b);
  const pub = await createToken(a, 'publish');
  // Posted until one is owed to it: each node learns the phones the others hold within a heartbeat.
  let id = '';
  const deadline = Date.now() + 30_000;
  while (!id) {
    const res = await send('POST', `${a.adminUrl}/uncached-topic`, `not cached ${Date.now()}`, { authorization: `Bearer ${pub.token}`, Cache: 'no' });
    expect(res.status).toBe(200);
    const sentinel = await phone.sentinel(b);
    if (phone.unique.has(res.body.id as string)) id = res.body.id as string;
    else if (Date.now() > deadline) throw new Error(`the uncached notification never reached the phone on B (sentinel ${sentinel} did)`);
    else await new Promise((r) => setTimeout(r, 250));
  }
  expect(phone.unique.get(id)?.body).toMatch(/^not cached/);
  phone.disconnect();
});

test('the newest connection wins: a phone moving from A to B is closed on A and receives on B', async () => {
  const { a, b } = nodes;
  const onA = new Phone(nodes.phones[2]);
  await onA.connect(a);
  const onB = new Phone(nodes.phones[2]);
  await onB.connect(b);
  await onA.waitFor(() => onA.disconnectReason !== undefined, 20_000, 'A to close the older socket');
  const res = await post(a, { body: 'after the move' });
  await onB.withBody('after the move', 20_000);
  expect(onA.unique.has(res.body.id)).toBe(false);
  // The registry says B holds it.
  const devices = await b.admin('GET', '/api/v1/devices');
  const nodeOfB = (await b.admin('GET', '/health/detailed')).body.checks.redis.node;
  expect(devices.body.find((d: { id: string }) => d.id === nodes.phones[2].deviceId)).toMatchObject({ online: true, node: nodeOfB });
  // `beep status` on A lists both nodes and says B holds the phone.
  const nodeOfA = (await a.admin('GET', '/health/detailed')).body.checks.redis.node;
  const status = await a.cli(['status']);
  expect(status.stdout).toContain(`cluster: this is node ${nodeOfA}; 2 node(s) alive`);
  expect(status.stdout).toMatch(new RegExp(`node ${nodeOfB}\\s+1 phone\\(s\\)`));
  expect(status.stdout).toContain(`phone phone 2 (${nodes.phones[2].deviceId.slice(0, 8)}) on node ${nodeOfB}`);
  onB.disconnect();
});

test('a revoke on A closes the phone\'s socket on B (a control event, not a periodic check)', async () => {
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[3]);
  await phone.connect(b);
  const revoked = await a.admin('DELETE', `/api/v1/devices/${nodes.phones[3].deviceId}`);
  expect(revoked.status).toBe(204);
  await phone.waitFor(() => phone.revoked && phone.disconnectReason !== undefined, 20_000, 'B to close the revoked phone');
});

test('pairing failures spent on A count on B (failure budgets on Redis)', async () => {
  const { a, b } = nodes;
  const code = await a.admin('POST', '/api/v1/pairings');
  expect(code.status).toBe(201);
  const wrong = String((Number(code.body.code) + 1) % 1e8).padStart(8, '0');
  const attempt = (node: RunningDaemon) => node.gateway<{ error: { code: string } }>('POST', '/api/v1/pair', { code: wrong, name: 'x', platform: 'test' });
  // The default budget: 5 failures per address per window (rateLimits.pairingAttempts).
  for (let i = 0; i < 5; i++) expect((await attempt(a)).status).toBe(401);
  const onB = await attempt(b);
  expect(onB.status).toBe(429);
  expect(onB.body.error.code).toBe('rate_limited');
});

test('each node\'s metrics carry its node id as a label (one value per node), and the two differ', async () => {
  const { a, b } = nodes;
  const idOf = async (node: typeof a) => (await node.admin('GET', '/health/detailed')).body.checks.redis.node as string;
  const [idA, idB] = [await idOf(a), await idOf(b)];
  expect(idA).not.toBe(idB);
  for (const [node, id] of [[a, idA], [b, idB]] as const) {
    const text = (await node.admin('GET', '/metrics')).text as string;
    const series = text.split('\n').filter((l) => l.startsWith('beep_notifications_accepted_total') || l.startsWith('beep_delivery_latency_seconds_count'));
    expect(series.length).toBeGreaterThan(0);
    for (const line of series) expect(line).toContain(`node="${id}"`);
  }
});

test('kill -9 of A while posting to B and A: every 2xx reaches the phone on B once', async () => {
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[0]);
  await phone.connect(b);
  const answered: string[] = [];
  let killed = false;
  const sender = async (node: RunningDaemon, tag: string) => {
    for (let i = 0; i < 400 && !(node === a && killed); i++) {
      const res = await post(node, { body: `${tag}-${i}` }).catch(() => undefined);
      if (res && (res.status === 202 || res.status === 200)) answered.push(res.body.id);
    }
  };
  const toA = sender(a, 'burst-a');
  const toB = sender(b, 'burst-b');
  await until(() => answered.length >= 40, 'a few answers before the kill', 30_000);
  await a.kill();
  killed = true;
  stopped.push(a);
  await Promise.all([toA, toB]);
  expect(answered.length).toBeGreaterThan(40);
  await phone.waitFor(() => answered.every((id) => phone.unique.has(id)), 60_000, `every answered post (${answered.length})`);
  await phone.sentinel(b);
  const counts = new Map<string, number>();
  for (const n of phone.arrivals) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
  expect(answered.filter((id) => counts.get(id) !== 1)).toEqual([]);
  phone.disconnect();
});

