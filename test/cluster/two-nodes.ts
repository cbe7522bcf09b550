import fs from 'node:fs';
import path from 'node:path';
import { NODE_ID_FILE } from '../../app/cluster/node-id';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { pair, type Credentials } from '../helpers/phone';
import type { RedisServer } from '../helpers/redis-server';

// Two real daemons A and B sharing one redis-server, each with its own data directory.
//
// Until the data-key ring, the signing-key ring and the accounts port live in Redis (the other
// two cluster helpers' work, composition/ports.ts PORTS_STILL_LOCAL), B is made from A's data
// directory: A starts once, pairs the phones the test asks for (mirrored into Redis), stops, and
// its directory is copied for B without its node id, lock or runtime files. Both nodes then hold
// the same master key, data keys, signing keys and devices, as they will once those ports are on
// Redis; everything else (each node's own id, lease, reader, sockets) is B's own. Once the ports
// land, `startPair` starts B on a fresh directory holding only a copy of keys/master.key.

/** Files of a data directory that belong to one process or one node, never copied. */
const NOT_COPIED = new Set([NODE_ID_FILE, 'daemon.json', 'daemon.lock', 'daemon.pid', 'logs']);

/** Copies a stopped node's data directory for another node. */
function cloneDataDir(from: string): string {
  const to = tempDir('beep-node-b-');
  for (const entry of fs.readdirSync(from)) {
    if (NOT_COPIED.has(entry)) continue;
    fs.cpSync(path.join(from, entry), path.join(to, entry), { recursive: true });
  }
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

/** Starts A, pairs `phones` on it, makes B from A's directory, and starts both on `redis`. */
export async function startPair(redis: RedisServer, phones = 1, config: Record<string, unknown> = nodeConfig()): Promise<NodePair> {
  const env = { BEEP_REDIS_URL: redis.url, BEEP_LOG_LEVEL: 'info' };
  const first = await startDaemon({ env, config });
  const paired: Credentials[] = [];
  for (let i = 0; i < phones; i++) paired.push(await pair(first, `phone ${i}`));
  expect(await first.stop()).toBe(0);
  const bDir = cloneDataDir(first.dataDir);
  const [a, b] = await Promise.all([first.restart(), startDaemon({ dataDir: bDir, env })]);
  return { a, b, phones: paired };
}

/** Posts one notification to a node's admin API. */
export function post(node: RunningDaemon, body: Record<string, unknown>) {
  return node.admin('POST', '/api/v1/notifications', { title: 't', ...body });
}
