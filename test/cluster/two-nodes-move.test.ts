import Redis from 'ioredis';
import type { WireNotification } from '../../app/domain/notification';
import { Phone } from '../helpers/phone';
import type { RunningDaemon } from '../helpers/daemon';
import { post, type NodePair, usePair } from './two-nodes';

// A phone that moves between nodes: connected to A it receives and acks part of a burst posted
// to A and B, disconnects, and once A has given up its lease (after its last progress write),
// connects to B and resumes from the progress A wrote to Redis: every notification of the burst
// arrives exactly once across both connections, up to a sentinel posted after the burst.

jest.setTimeout(120_000);

let nodes: NodePair;
let client: Redis;

usePair({ phones: 1 }, (started) => ({ nodes, client } = started));

/** Polls an asynchronous predicate. */
async function until(predicate: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a phone moving from A to B mid-burst resumes on B with nothing lost and nothing twice', async () => {
  const { a, b } = nodes;
  const deviceId = nodes.phones[0].deviceId;
  const TOTAL = 120;
  const PART = 30;
  const onA = new Phone(nodes.phones[0]);
  // Acks everything it receives; once it has PART items it leaves A (after this batch's ack is sent).
  onA.ackPolicy = (items: WireNotification[]) => {
    if (onA.unique.size >= PART) setImmediate(() => onA.disconnect());
    return items.map((n) => n.id);
  };
  await onA.connect(a);
  expect(await client.get(`beep:lease:${deviceId}`)).toMatch(/^\d+ \S+$/);

  // The burst: alternately to A and to B, one at a time, while the phone moves.
  const ids: string[] = [];
  const burst = (async () => {
    for (let i = 0; i < TOTAL; i++) {
      const node: RunningDaemon = i % 2 === 0 ? a : b;
      const res = await post(node, { body: `move-${i}`, priority: (i % 3) + 2 });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
  })();

  await onA.waitFor(() => onA.socket?.connected === false, 60_000, 'the phone to leave A mid-burst');
  // A writes the phone's last progress, then releases its lease (device-namespace: release after settled).
  await until(async () => (await client.exists(`beep:lease:${deviceId}`)) === 0, 'A to release the lease');
  const receivedOnA = new Set(onA.unique.keys());

  const onB = new Phone(nodes.phones[0]);
  await onB.connect(b);
  await burst;
  // Only part of the burst reached the phone on A; the rest is still to come on B.
  expect(receivedOnA.size).toBeGreaterThanOrEqual(PART);
  expect(ids.filter((id) => receivedOnA.has(id)).length).toBeLessThan(TOTAL);
  // The sentinel (priority 1, posted after the burst) marks the end.
  await onB.waitFor(() => ids.every((id) => receivedOnA.has(id) || onB.unique.has(id)), 60_000, `the ${TOTAL} on A or B`);
  await onB.sentinel(b, 30_000);

  // Nothing lost: every id of the burst arrived on A or on B.
  expect(ids.filter((id) => !receivedOnA.has(id) && !onB.unique.has(id))).toEqual([]);
  // Nothing twice: each arrived once across both connections (nothing A's progress covered was resent on B).
  const counts = new Map<string, number>();
  for (const n of [...onA.arrivals, ...onB.arrivals]) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
  expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
  // Both connections carried part of it.
  expect(ids.filter((id) => onB.unique.has(id)).length).toBeGreaterThan(0);
  onB.disconnect();
});
