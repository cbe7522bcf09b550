import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { Phone } from '../helpers/phone';
import { RedisServer } from '../helpers/redis-server';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { nodeConfig, post, startPair, type NodePair } from './two-nodes';

// Redis as a real dependency of two daemons: while it is unreachable a post is answered 503
// not_accepted (never left hanging), connected phones stay connected and their acks are held,
// a new connection is refused with a retryable code (never device_revoked), /health/detailed
// shows redis down; once it is back the held acks are written and posting works, with nobody
// restarting anything. A Redis that evicts keys is refused at start.

jest.setTimeout(60_000);

let redis: RedisServer;
let nodes: NodePair | undefined;

afterAll(async () => {
  for (const node of [nodes?.a, nodes?.b]) if (node && node.proc.exitCode === null) await node.kill();
  await redis?.stop();
});

/** Polls an asynchronous predicate. */
async function until(predicate: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** /health/detailed once its redis check reports `status`. */
async function healthOf(node: RunningDaemon, status: 'ok' | 'down') {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const health = await node.admin('GET', '/health/detailed');
    if (health.body.checks.redis.status === status) return health;
    if (Date.now() > deadline) throw new Error(`redis never ${status}: ${health.text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('Redis down: ingest 503, the phone stays connected and its acks are held; Redis back: acks written, posting works', async () => {
  // Every answered write on disk before the kill, so what Redis had is what it comes back with.
  redis = await RedisServer.start({ config: { appendfsync: 'always' } });
  // Health reports are not cached here, so the test sees each change as it happens.
  nodes = await startPair(redis, 2, nodeConfig({ health: { cacheTtlMs: 0 } }));
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[0]);
  phone.ackPolicy = 'none';
  await phone.connect(b);
  const before = await post(a, { body: 'before the outage', priority: 3 });
  expect(before.status).toBe(202);
  await phone.withBody('before the outage');
  const seq = Number(await (async () => {
    const c = new Redis(redis.url);
    try {
      return await c.get(`beep:id:${before.body.id as string}`);
    } finally {
      c.disconnect();
    }
  })());

  await redis.kill9();
  // Ingest answers at once: 503 not_accepted, on both nodes.
  for (const node of [a, b]) {
    const refused = await post(node, { body: 'during the outage' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('not_accepted');
  }
  // The phone acks now: the write cannot reach Redis and is held.
  for (const held of phone.held.splice(0)) held.ack({ ack: held.items.map((n) => n.id) });
  // /health/detailed: redis down (polled: a report is cached for health.cacheTtlMs).
  const health = await healthOf(b, 'down');
  expect(health.status).toBe(503);
  // A new connection is refused with a retryable code, never a sign-out.
  const other = new Phone(nodes.phones[1]);
  const refusal = await other.connect(b).then(() => 'connected', (e: { code?: string }) => e.code);
  expect(refusal).toBe('unavailable');
  // The ack's progress write was tried and is held on B (the node says so while Redis is away).
  await until(async () => (await healthOf(b, 'down')).body.checks.redis.heldWrites >= 1, 'the ack to be held');
  // Still connected.
  expect(phone.disconnectReason).toBeUndefined();
  expect(phone.socket?.connected).toBe(true);

  await redis.restart();
  // The held ack is written once Redis is back (no restart of the daemon).
  const c = new Redis(redis.url);
  try {
    const deadline = Date.now() + 30_000;
    while (Number(await c.hget(`beep:progress:${nodes.phones[0].deviceId}`, 'w3')) < seq) {
      if (Date.now() > deadline) throw new Error('the held ack was never written');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    c.disconnect();
  }
  phone.ackPolicy = 'all';
  // Posting works again (polled: the node notices Redis is back within its reconnect back-off).
  const deadline = Date.now() + 30_000;
  let after = await post(b, { body: 'after the outage' });
  while (after.status !== 202 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    after = await post(b, { body: 'after the outage' });
  }
  expect(after.status).toBe(202);
  await phone.withBody('after the outage', 30_000);
  expect(phone.disconnectReason).toBeUndefined();
  await other.connect(b);
  other.disconnect();
  expect((await healthOf(b, 'ok')).body.checks.redis).toMatchObject({ status: 'ok', nodes: [expect.any(Object), expect.any(Object)] });
  phone.disconnect();
});

test('a Redis whose maxmemory-policy is allkeys-lru is refused at start: exit 1 with the reason', async () => {
  const lru = await RedisServer.start({ config: { 'maxmemory-policy': 'allkeys-lru' } });
  try {
    const failure = await startDaemon({ dataDir: tempDir(), env: { BEEP_REDIS_URL: lru.url } }).then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(failure).toMatch(/exited with 1/);
    expect(failure).toMatch(/maxmemory-policy is "allkeys-lru": it must be "noeviction"/);
  } finally {
    await lru.stop();
  }
});

test('a Redis that cannot be reached at start: exit 1 with the reason, no daemon.json left', async () => {
  const gone = await RedisServer.start();
  const url = gone.url;
  await gone.stop();
  const dataDir = tempDir();
  const failure = await startDaemon({ dataDir, env: { BEEP_REDIS_URL: url } }).then(
    () => 'started',
    (e: Error) => e.message,
  );
  expect(failure).toMatch(/exited with 1/);
  expect(failure).toMatch(/Redis refused for cluster mode: cannot connect: .*ECONNREFUSED/);
  expect(fs.existsSync(path.join(dataDir, 'daemon.json'))).toBe(false);
});
