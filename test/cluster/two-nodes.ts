import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { pair, type Credentials } from '../helpers/phone';
import Redis from 'ioredis';
import { RedisServer } from '../helpers/redis-server';

// Two real daemons A and B sharing one redis-server, each with its own data directory. B's is
// made as an operator makes a second node (README "Several PCs, one set of phones"): a fresh
// directory holding only a copy of A's keys/master.key. Everything else B shares with A (devices,
// data keys, signing keys, the CA) comes from Redis.

/** A fresh data directory for another node: only the cluster's master key, copied from `from`. */
export function joiningDataDir(from: string): string {
  const to = tempDir('beep-node-b-');
  fs.mkdirSync(path.join(to, 'keys'), { mode: 0o700 });
  fs.copyFileSync(path.join(from, 'keys', 'master.key'), path.join(to, 'keys', 'master.key'));
  return to;
}

export interface NodePair {
  a: RunningDaemon;
  b: RunningDaemon;
  /** Phones paired before B was made (known to both nodes). */
  phones: Credentials[];
}

/** The config every node of a test runs with (compat on, generous limits for bursts). */
export function nodeConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { rateLimits: { gatewayPerIpPerMin: 100_000, devicePerMin: 100_000 }, ...extra };
}

/** Starts A, pairs `phones` on it, then starts B on a fresh directory with A's master key; both on `redis`. */
export async function startPair(redis: RedisServer, phones = 1, config: Record<string, unknown> = nodeConfig()): Promise<NodePair> {
  const env = { BEEP_REDIS_URL: redis.url, BEEP_LOG_LEVEL: 'info' };
  const a = await startDaemon({ env, config });
  const paired: Credentials[] = [];
  for (let i = 0; i < phones; i++) paired.push(await pair(a, `phone ${i}`));
  const b = await startDaemon({ dataDir: joiningDataDir(a.dataDir), env, config });
  return { a, b, phones: paired };
}

/** Posts one notification to a node's admin API. */
export function post(node: RunningDaemon, body: Record<string, unknown>) {
  return node.admin('POST', '/api/v1/notifications', { title: 't', ...body });
}

/** What `usePair` started for a test file. */
export interface StartedPair {
  redis: RedisServer;
  nodes: NodePair;
  /** A plain client of the same Redis (to look at or change its keys and settings). */
  client: Redis;
}

/**
 * One test file's cluster: before its tests a redis-server, a client of it and nodes A and B
 * (`startPair`), handed to `assign`; after them every node still running (a stopped one resumed
 * with SIGCONT first) is killed, then the client and the server go. `also` names nodes the file
 * started itself, to be killed with them.
 *
 *   let nodes: NodePair;
 *   usePair({ phones: 1 }, (started) => ({ nodes } = started));
 */
export function usePair(
  options: { phones?: number; config?: Record<string, unknown> },
  assign: (started: StartedPair) => void,
  also: () => (RunningDaemon | undefined)[] = () => [],
): void {
  let started: Partial<StartedPair> = {};
  beforeAll(async () => {
    started.redis = await RedisServer.start();
    started.client = new Redis(started.redis.url);
    started.nodes = await startPair(started.redis, options.phones ?? 1, options.config);
    assign(started as StartedPair);
  });
  afterAll(async () => {
    started.client?.disconnect();
    for (const node of [started.nodes?.a, started.nodes?.b, ...also()]) {
      if (!node || node.proc.exitCode !== null) continue;
      node.proc.kill('SIGCONT');
      await node.kill();
    }
    await started.redis?.stop();
    started = {};
  });
}
