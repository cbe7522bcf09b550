import Redis from 'ioredis';
import { Phone } from '../helpers/phone';
import type { RunningDaemon } from '../helpers/daemon';
import { post, type NodePair, usePair } from './two-nodes';

// Redis full (`maxmemory` reached under `noeviction`, the only policy a node starts with): the
// accepting script is refused, so posts on A and on B are answered 503 not_accepted, never 2xx;
// every post answered 2xx before is still delivered to the phone on B (reads work on a full
// Redis); once maxmemory is raised (CONFIG SET) posting works again without a restart.

jest.setTimeout(180_000);

let nodes: NodePair;
let client: Redis;

usePair({ phones: 1 }, (started) => ({ nodes, client } = started));

/** Redis' used_memory in bytes. */
async function usedMemory(): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

test('maxmemory reached: posts on A and B get 503 not_accepted, every 2xx is delivered; maxmemory raised: posting works again', async () => {
  const { a, b } = nodes;
  expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  const phone = new Phone(nodes.phones[0]);
  await phone.connect(b);
  // Room for a few hundred notifications above what the cluster holds now.
  await client.config('SET', 'maxmemory', String((await usedMemory()) + 2 * 1024 * 1024));

  const filler = 'x'.repeat(3000);
  const accepted: string[] = [];
  const refused: { status: number; code?: string }[] = [];
  // Post until each node has refused several in a row (Redis is full for both).
  const fill = async (node: RunningDaemon, tag: string) => {
    let inARow = 0;
    for (let i = 0; inARow < 5; i++) {
      if (i > 5_000) throw new Error(`${tag}: Redis never filled up (used ${await usedMemory()} bytes)`);
      const res = await post(node, { body: `${tag}-${i} ${filler}` });
      if (res.status === 202 || res.status === 200) {
        accepted.push(res.body.id as string);
        inARow = 0;
      } else {
        refused.push({ status: res.status, code: res.body?.error?.code });
        inARow++;
      }
    }
  };
  await Promise.all([fill(a, 'full-a'), fill(b, 'full-b')]);
  expect(accepted.length).toBeGreaterThan(20);
  expect(refused.length).toBeGreaterThanOrEqual(10);
  // Refused means 503 not_accepted, nothing else.
  expect(refused.filter((r) => r.status !== 503 || r.code !== 'not_accepted')).toEqual([]);
  // Redis says why: it refused writes out of memory (OOM error replies).
  const errors = await client.info('errorstats');
  expect(Number(/errorstat_OOM:count=(\d+)/.exec(errors)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);

  // Nothing answered 2xx is lost: all of it reaches the phone on B while Redis is still full.
  await phone.waitFor(() => accepted.every((id) => phone.unique.has(id)), 60_000, `every 2xx (${accepted.length})`);

  await client.config('SET', 'maxmemory', '0');
  for (const node of [a, b]) {
    const again = await post(node, { body: `after raising maxmemory on ${node === a ? 'A' : 'B'}` });
    expect(again.status).toBe(202);
    accepted.push(again.body.id as string);
  }
  await phone.withBody('after raising maxmemory on A', 30_000);
  await phone.withBody('after raising maxmemory on B', 30_000);
  await phone.sentinel(b, 30_000);
  // Each 2xx once.
  const counts = new Map<string, number>();
  for (const n of phone.arrivals) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
  expect(accepted.filter((id) => counts.get(id) !== 1)).toEqual([]);
  expect(phone.disconnectReason).toBeUndefined();
  phone.disconnect();
});
