import { spawnSync } from 'node:child_process';
import Redis from 'ioredis';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';
import { RedisServer } from '../helpers/redis-server';
import { joiningDataDir, nodeConfig, post } from './two-nodes';

// The trust material a cluster shares, through real daemons: a node joining on a fresh data
// directory with only the master key pins the same CA as the first node (one fingerprint for
// the phones) with a server certificate of its own (a data-key rotation on A adds to the one shared ring); a phone paired through A (its access token
// signed by the cluster's signing key) is accepted by B with the CA it pinned on A; a node
// started with another master key is refused at start (exit 1) with a message saying what to copy.

jest.setTimeout(120_000);

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');

let redis: RedisServer;
const nodes: RunningDaemon[] = [];

afterAll(async () => {
  for (const node of nodes) if (node.proc.exitCode === null) await node.kill();
  await redis?.stop();
});

test('a joining node pins the cluster\'s CA with its own server certificate; a phone paired on A connects to B with the CA it pinned', async () => {
  redis = await RedisServer.start();
  const env = { BEEP_REDIS_URL: redis.url };
  const a = await startDaemon({ env, config: nodeConfig() });
  nodes.push(a);
  const b = await startDaemon({ dataDir: joiningDataDir(a.dataDir), env, config: nodeConfig() });
  nodes.push(b);

  expect(b.runtime.caFingerprint).toBe(a.runtime.caFingerprint);
  expect(b.caPem).toBe(a.caPem);
  const serverCert = (node: RunningDaemon) => fs.readFileSync(path.join(node.dataDir, 'certs', 'server.crt'), 'utf8');
  expect(serverCert(b)).not.toBe(serverCert(a));
  // (`beep cert rotate-ca` on a cluster node replaces the CA on every node: two-nodes-ca-rotate.test.ts.)
  expect(fs.readFileSync(path.join(a.dataDir, 'certs', 'ca.crt'), 'utf8')).toBe(b.caPem);

  const phone = await Phone.paired(a, 'pinned on A');
  // The phone keeps A's CA (what it pinned at pairing) while it talks to B.
  await phone.connect(Object.assign(Object.create(b) as RunningDaemon, { caPem: a.caPem }));
  expect((await post(b, { body: 'sealed on B, signed for A' })).status).toBe(202);
  await phone.withBody('sealed on B, signed for A');

  // `beep keys rotate` on A: a second key joins the one shared ring (under the cluster lease); delivery goes on.
  const client = new Redis(redis.url);
  try {
    expect(await client.hlen('beep:trust:data-keys')).toBe(1);
    const rotated = await a.cli(['keys', 'rotate']);
    expect({ status: rotated.status, out: rotated.stdout }).toEqual({ status: 0, out: expect.stringContaining('added to the cluster\'s ring') });
    expect(await client.hlen('beep:trust:data-keys')).toBe(2);
  } finally {
    client.disconnect();
  }
  expect((await post(a, { body: 'after the rotation' })).status).toBe(202);
  await phone.withBody('after the rotation');
  phone.disconnect();
});

test('a node started with another master key is refused at start, exit 1, saying which key to copy', () => {
  const dir = tempDir('beep-node-other-');
  const result = spawnSync(process.execPath, [MAIN, 'start', '--gateway-host', '127.0.0.1'], {
    env: { PATH: process.env.PATH, HOME: dir, BEEP_HOME: dir, BEEP_GATEWAY_PORT: '0', BEEP_ADMIN_PORT: '0', BEEP_REDIS_URL: redis.url },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('another master key');
  expect(result.stderr).toContain('master.key');
});
