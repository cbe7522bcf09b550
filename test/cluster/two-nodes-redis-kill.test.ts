import { Phone } from '../helpers/phone';
import { RedisServer } from '../helpers/redis-server';
import type { HttpResult, RunningDaemon } from '../helpers/daemon';
import { nodeConfig, post, startPair, type NodePair } from './two-nodes';

// kill -9 of redis-server during a burst posted to A and to B, with `appendfsync always` (every
// script reply is on disk before it is sent): while it is down every post started is answered,
// and answered 503 not_accepted (no 2xx, no hang); once it is restarted on the same directory and
// port, every post that was answered 2xx, before or after the outage, reaches the phone on B once.

jest.setTimeout(180_000);

let redis: RedisServer;
let nodes: NodePair | undefined;

afterAll(async () => {
  for (const node of [nodes?.a, nodes?.b]) if (node && node.proc.exitCode === null) await node.kill();
  await redis?.stop();
});

/** A post that must be answered within a generous bound (a hang fails the test with its name). */
async function answered(node: RunningDaemon, body: string): Promise<HttpResult> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`post "${body}" was not answered within 30 s`)), 30_000);
  });
  try {
    return await Promise.race([post(node, { body }), hang]);
  } finally {
    clearTimeout(timer);
  }
}

test('kill -9 of redis-server mid-burst: posts while it is down get 503 not_accepted only; every 2xx is delivered once it is back', async () => {
  redis = await RedisServer.start({ config: { appendfsync: 'always' } });
  nodes = await startPair(redis, 1, nodeConfig());
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[0]);
  await phone.connect(b);

  // Phases: 'up' before the kill, 'down' once kill9() has returned (the process is gone), 'back' after the restart.
  let phase: 'up' | 'killing' | 'down' | 'back' = 'up';
  let stop = false;
  const accepted: string[] = [];
  const whileDown: { node: string; status: number; code?: string }[] = [];
  const sender = async (node: RunningDaemon, tag: string) => {
    for (let i = 0; !stop; i++) {
      const startedIn = phase;
      const res = await answered(node, `${tag}-${i}`);
      if (res.status === 200 || res.status === 202) accepted.push(res.body.id as string);
      // A post started while Redis was gone (and finished before the restart began) must be refused.
      if (startedIn === 'down' && phase === 'down') whileDown.push({ node: tag, status: res.status, code: res.body?.error?.code });
      else if (startedIn === 'up' && phase === 'up' && res.status !== 202) throw new Error(`${tag}-${i} answered ${res.status} before the kill: ${res.text}`);
    }
  };
  const senders = Promise.all([sender(a, 'kill-a'), sender(b, 'kill-b')]);

  await phone.waitFor(() => accepted.length >= 40, 60_000, 'a few answers before the kill');
  phase = 'killing';
  await redis.kill9();
  phase = 'down';
  // Each node answers several posts while Redis is down.
  await phone.waitFor(() => ['kill-a', 'kill-b'].every((n) => whileDown.filter((r) => r.node === n).length >= 5), 60_000, 'posts answered while Redis is down');
  phase = 'back';
  stop = true;
  await senders;
  expect(whileDown.length).toBeGreaterThanOrEqual(10);
  expect(whileDown.filter((r) => r.status !== 503 || r.code !== 'not_accepted')).toEqual([]);

  await redis.restart();
  // Posting works again on both nodes (each recovers by itself within its reconnect back-off).
  for (const node of [a, b]) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await answered(node, `after-${node === a ? 'a' : 'b'}`);
      if (res.status === 202) {
        accepted.push(res.body.id as string);
        break;
      }
      expect(res.status).toBe(503);
      if (Date.now() > deadline) throw new Error(`posting never worked again: ${res.status} ${res.text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  // Every 2xx reaches the phone on B (still connected through the outage), once.
  await phone.waitFor(() => accepted.every((id) => phone.unique.has(id)), 60_000, `every 2xx (${accepted.length})`);
  await phone.sentinel(b, 30_000);
  const counts = new Map<string, number>();
  for (const n of phone.arrivals) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
  expect(accepted.filter((id) => counts.get(id) !== 1)).toEqual([]);
  expect(phone.disconnectReason).toBeUndefined();
  phone.disconnect();
});
