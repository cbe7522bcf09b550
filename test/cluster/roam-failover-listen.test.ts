import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { NodeRegistry } from '../../app/cluster/node-registry';
import { RedisKeys } from '../../app/cluster/redis-keys';
import { REDIS_KEY_PREFIX } from '../../app/config/defaults';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { killListeners, Listener } from '../helpers/listener';
import { RedisServer } from '../helpers/redis-server';
import { nodeConfig, post, startPair, type NodePair } from './two-nodes';

// `beep listen` follows the cluster ([roam]): paired through A, it keeps receiving through B when
// A is killed (kill -9), says which node it is connected through, and goes back to A once A is
// started again on its address. Which node holds it is read from the device lease, the same key
// that fences its progress writes (node-registry holders()).

jest.setTimeout(300_000);

const DEADLINE_MS = 120_000;

let redis: RedisServer;
let nodes: NodePair;
let client: Redis;
let restartedA: RunningDaemon | undefined;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url);
  // Access tokens live 30 s (the minimum), so the listener refreshes while it is on B.
  nodes = await startPair(redis, 0, nodeConfig({ auth: { accessTokenTtlSec: 30 } }));
});

afterAll(async () => {
  killListeners();
  client.disconnect();
  for (const node of [nodes?.a, nodes?.b, restartedA]) if (node && node.proc.exitCode === null) await node.kill();
  await redis.stop();
});

const nodeId = (d: RunningDaemon) => (d.runtime as unknown as { nodeId: string }).nodeId;

/** Polls an asynchronous predicate. */
async function until(predicate: () => Promise<boolean>, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('paired through A, it receives through B while A is dead and moves back to A when A returns', async () => {
  const { a, b } = nodes;
  const registry = new NodeRegistry(client, new RedisKeys(REDIS_KEY_PREFIX), 'test-observer', 60_000);
  const holder = async (deviceId: string) => (await registry.holders([deviceId])).get(deviceId);

  const link = await a.admin('POST', '/api/v1/pairings');
  expect(link.status).toBe(201);
  const stateFile = path.join(tempDir('beep-roam-listen-'), 'listen.json');
  const listener = new Listener(a, stateFile, link.body.url);
  await listener.waitFor(() => listener.stderr.includes(`connected through ${nodeId(a)} (${a.gatewayUrl})`), 'connected through A', DEADLINE_MS);
  const deviceId = /paired as device (\S+);/.exec(listener.stderr)![1];
  // The pairing answer's node list is kept with the rest of its state.
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  expect(state.nodes.map((n: { url: string }) => n.url).sort()).toEqual([a.gatewayUrl, b.gatewayUrl].sort());
  await until(async () => (await holder(deviceId)) === nodeId(a), 'A holding the lease');

  expect((await post(a, { title: 'before the kill' })).status).toBe(202);
  await listener.waitFor(() => listener.titles().includes('before the kill'), 'the first notification', DEADLINE_MS);

  // A dies without a goodbye: the listener moves to B and what is posted there arrives.
  const gatewayPortA = a.runtime.gatewayPort;
  await a.kill();
  await listener.waitFor(() => listener.stderr.includes(`connected through ${nodeId(b)} (${b.gatewayUrl})`), 'connected through B', DEADLINE_MS);
  await until(async () => (await holder(deviceId)) === nodeId(b), 'B holding the lease');
  expect((await post(b, { title: 'while A is dead' })).status).toBe(202);
  await listener.waitFor(() => listener.titles().includes('while A is dead'), 'the notification posted on B', DEADLINE_MS);
  // Its token is refreshed through B while A is dead (the refresh token rotates in its state file).
  const onB = JSON.parse(fs.readFileSync(stateFile, 'utf8')).refreshToken;
  await listener.waitFor(() => JSON.parse(fs.readFileSync(stateFile, 'utf8')).refreshToken !== onB, 'a refresh through B', DEADLINE_MS);
  expect(a.proc.exitCode !== null || a.proc.signalCode !== null).toBe(true);

  // A is back on its address: the listener's probe finds it and the lease moves back to A.
  const afterB = listener.stderr.length;
  restartedA = await startDaemon({ dataDir: a.dataDir, env: { BEEP_REDIS_URL: redis.url, BEEP_LOG_LEVEL: 'info', BEEP_GATEWAY_PORT: String(gatewayPortA) } });
  expect(nodeId(restartedA)).toBe(nodeId(a));
  await listener.waitFor(() => listener.stderr.slice(afterB).includes(`connected through ${nodeId(a)} (${a.gatewayUrl})`), 'connected through A again', DEADLINE_MS);
  await until(async () => (await holder(deviceId)) === nodeId(a), 'A holding the lease again');
  expect((await post(b, { title: 'after A returned' })).status).toBe(202);
  await listener.waitFor(() => listener.titles().includes('after A returned'), 'the notification after the return', DEADLINE_MS);

  // Each one shown once.
  expect(listener.titles().filter((t) => ['before the kill', 'while A is dead', 'after A returned'].includes(t))).toEqual(['before the kill', 'while A is dead', 'after A returned']);
  expect(listener.proc.exitCode).toBeNull();
});
