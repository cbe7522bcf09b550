import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientAddress } from './client-address';
import { devicesOwing, framesSent, launchDaemon, pairDevice, stopDaemon, type BeepDaemon } from './beep-daemon';
import type { CorePlan } from './cores';
import { mapLimit } from './map-limit';
import { startRedis } from './redis-process';
import type { SystemUnderTest } from './system';

// Beep's cluster under test (the informational `cluster` scenario): a redis-server and two
// nodes, A and B, all three on the server core, set up as README's "Several PCs, one set of
// phones" says — B starts on an empty data directory holding only A's keys/master.key. Phones
// are paired through A (the accounts are shared), then both nodes restart (as the one-node run
// does, so connected RSS measures phones); even phones connect to A, odd ones to B, and the
// posts alternate between the two nodes' admin APIs, so every notification crosses Redis to
// reach half the phones.

/** Pairings in flight at once (each costs a token signature, as in beep-system.ts). */
const PAIR_CONCURRENCY = 8;

/** An empty data directory for B with A's master key, the one file a node must share. */
function joiningDataDir(from: string): string {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-bench-node-b-'));
  fs.mkdirSync(path.join(to, 'keys'), { mode: 0o700 });
  fs.copyFileSync(path.join(from, 'keys', 'master.key'), path.join(to, 'keys', 'master.key'));
  return to;
}

/** Starts Redis, then A, then B (B joins the cluster A made), each pinned to the server core. */
export async function startCluster(plan: CorePlan): Promise<SystemUnderTest> {
  const redis = await startRedis(plan);
  const env = { BEEP_REDIS_URL: redis.url };
  let nodes: BeepDaemon[] = [];
  const launchBoth = async (dirs: [string | undefined, string | undefined]) => {
    const a = await launchDaemon(plan, { env, dataDir: dirs[0] }).ready;
    nodes = [a];
    nodes.push(await launchDaemon(plan, { env, dataDir: dirs[1] ?? joiningDataDir(a.dataDir) }).ready);
  };
  try {
    await launchBoth([undefined, undefined]);
  } catch (error) {
    for (const node of nodes) await stopDaemon(node);
    await redis.stop();
    throw error;
  }
  const target = (node: BeepDaemon) => ({ url: `${node.adminUrl}/api/v1/notifications`, headers: { authorization: `Bearer ${node.adminToken}` } });
  return {
    kind: 'cluster',
    get pid() {
      return nodes[0].proc.pid!;
    },
    get pids() {
      return [...nodes.map((n) => n.proc.pid!), redis.proc.pid!];
    },
    redisPid: redis.proc.pid!,
    get readyAt() {
      return Math.max(...nodes.map((n) => n.readyAt));
    },
    get postTarget() {
      return target(nodes[0]);
    },
    get postTargets() {
      return nodes.map(target);
    },
    async preparePhones(count) {
      const paired = await mapLimit(Array.from({ length: count }), PAIR_CONCURRENCY, (_x, i) => pairDevice(nodes[0], `bench phone ${i}`, clientAddress(i)));
      const dirs = nodes.map((n) => n.dataDir) as [string, string];
      for (const node of nodes) {
        const code = await stopDaemon(node, { keepDataDir: true });
        if (code !== 0) throw new Error(`a node exited with ${code} on SIGTERM after pairing:\n${node.output().slice(-2000)}`);
      }
      await launchBoth(dirs);
      const urls = paired.map((_p, i) => nodes[i % 2].gatewayUrl);
      return { protocol: 'beep', url: nodes[0].gatewayUrl, urls, ca: nodes[0].caPem, tokens: paired.map((p) => p.accessToken) };
    },
    undelivered: () => devicesOwing(nodes[0]),
    async frames() {
      const each = await Promise.all(nodes.map(framesSent));
      return { frames: each.reduce((n, f) => n + f.frames, 0), items: each.reduce((n, f) => n + f.items, 0) };
    },
    problems() {
      const exited = [...nodes.map((n, i) => ({ name: `node ${'AB'[i]}`, proc: n.proc })), { name: 'redis-server', proc: redis.proc }];
      return exited.filter(({ proc }) => proc.exitCode !== null || proc.signalCode !== null).map(({ name, proc }) => `${name} exited with ${proc.exitCode ?? proc.signalCode}`);
    },
    async stop() {
      let worst: number | null = 0;
      for (const node of nodes) {
        const code = await stopDaemon(node);
        if (code !== 0) worst = code;
        const logs = node.output().trim();
        if (logs) process.stderr.write(`cluster node output (log level warn):\n${logs.slice(-4000)}\n`);
      }
      await redis.stop();
      return worst;
    },
  };
}
