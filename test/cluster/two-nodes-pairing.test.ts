import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';
import { RedisServer } from '../helpers/redis-server';
import { joiningDataDir, nodeConfig, post } from './two-nodes';

// A and B start on fresh data directories holding only the same master key (README: "Several
// PCs, one set of phones"), as an operator sets them up: the phone pairs through A (its device
// and refresh token in Redis, its access token signed with the cluster's signing key), connects
// to B (which pins the same CA) and receives what either node accepts; a revoke on A closes its
// socket on B and its token fails on both.

jest.setTimeout(120_000);

let redis: RedisServer;
const nodes: RunningDaemon[] = [];

afterAll(async () => {
  for (const node of nodes) if (node.proc.exitCode === null) await node.kill();
  await redis?.stop();
});

test('pair through A, connect to B: posts on A and B arrive; revoke on A: B closes the socket and the token fails on both', async () => {
  redis = await RedisServer.start();
  const env = { BEEP_REDIS_URL: redis.url };
  const a = await startDaemon({ env, config: nodeConfig() });
  nodes.push(a);
  const b = await startDaemon({ dataDir: joiningDataDir(a.dataDir), env, config: nodeConfig() });
  nodes.push(b);

  const phone = await Phone.paired(a, 'paired on A');
  await phone.connect(b);
  const onA = await post(a, { body: 'posted on A' });
  const onB = await post(b, { body: 'posted on B' });
  expect([onA.status, onB.status]).toEqual([202, 202]);
  await phone.withBody('posted on A');
  await phone.withBody('posted on B');

  expect((await a.admin('DELETE', `/api/v1/devices/${phone.credentials.deviceId}`)).status).toBe(204);
  await phone.waitFor(() => phone.revoked, 20_000, 'B to close the revoked phone');
  for (const node of [a, b]) {
    const again = new Phone(phone.credentials);
    const code = await again.connect(node).then(() => 'connected', (e: { code?: string }) => e.code);
    expect(code).toBe('device_revoked');
  }
});
