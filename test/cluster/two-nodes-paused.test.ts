import Redis from 'ioredis';
import { DEVICE_LEASE_TTL_MS } from '../../app/config/defaults';
import { Phone } from '../helpers/phone';
import type { RunningDaemon } from '../helpers/daemon';
import { post, type NodePair, usePair } from './two-nodes';

// A node paused past its device leases (SIGSTOP longer than DEVICE_LEASE_TTL_MS, a constant the
// config does not expose, so the test waits it out) cannot write stale progress after SIGCONT.
// The phone had received a batch on A and acked it while A was stopped (the ack waits in A's
// socket buffer); it moved to B, which took the lease (a newer epoch) and delivered everything
// not written as acked, and more; after SIGCONT, A reads that ack and would write the phone's old,
// lower progress over B's. The fence refuses it: Redis keeps B's progress, and a reconnect to B
// replays nothing. A phone that stayed on A loses its socket too (its lease expired in Redis
// while A was stopped), so it reconnects and its progress is read again.

jest.setTimeout(180_000);

let nodes: NodePair;
let client: Redis;

usePair({ phones: 3 }, (started) => ({ nodes, client } = started));

/** Polls an asynchronous predicate. */
async function until(predicate: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The seq Redis gave a public id (its claim key holds it). */
async function seqOf(id: string): Promise<number> {
  return Number(await client.get(`beep:id:${id}`));
}

/** The node id a daemon reports. */
async function nodeIdOf(node: RunningDaemon): Promise<string> {
  return (await node.admin('GET', '/health/detailed')).body.checks.redis.node as string;
}

/** Posts `count` notifications of priority 3 to a node; their ids. */
async function burst(node: RunningDaemon, tag: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await post(node, { body: `${tag}-${i}`, priority: 3 });
    expect(res.status).toBe(202);
    ids.push(res.body.id as string);
  }
  return ids;
}

test('a node paused past its lease cannot write stale progress after SIGCONT; the phone on B gets everything it had not acked', async () => {
  const { a, b } = nodes;
  const [moving, staying, probe] = nodes.phones;
  const nodeB = await nodeIdOf(b);
  const progressKey = `beep:progress:${moving.deviceId}`;

  // The moving phone receives on A and holds its acks; the staying phone acks as it goes.
  const onA = new Phone(moving);
  onA.ackPolicy = 'none';
  await onA.connect(a);
  const stayer = new Phone(staying);
  await stayer.connect(a);
  const first = await burst(a, 'before-pause', 10);
  await onA.waitFor(() => onA.held.length >= 1, 30_000, 'a batch on A');
  await stayer.waitFor(() => first.every((id) => stayer.unique.has(id)), 30_000, 'the first burst on the staying phone');
  // The staying phone's acks are written before the pause (a write still pending then would be fenced too: a resend, not a loss).
  const lastFirst = await seqOf(first[first.length - 1]);
  await until(async () => Number(await client.hget(`beep:progress:${staying.deviceId}`, 'w3')) >= lastFirst, "A's write of the staying phone's progress");

  // Paused: the phone acks what it got from A (the ack sits in A's socket buffer) and moves to B.
  process.kill(a.runtime.pid, 'SIGSTOP');
  const stoppedAt = Date.now();
  let second: string[] = [];
  try {
    const ackedToA = onA.held.splice(0).flatMap((held) => {
      held.ack({ ack: held.items.map((n) => n.id) });
      return held.items.map((n) => n.id);
    });
    expect(ackedToA.length).toBeGreaterThan(0);
    const onB = new Phone(moving);
    await onB.connect(b);
    // B holds the lease now, under a newer epoch.
    expect(await client.get(`beep:lease:${moving.deviceId}`)).toMatch(new RegExp(`^\\d+ ${nodeB}$`));
    second = await burst(b, 'during-pause', 10);
    // Everything not written as acked reaches the phone on B: the whole first burst (A never wrote its ack) and the second.
    await onB.waitFor(() => [...first, ...second].every((id) => onB.unique.has(id)), 30_000, 'both bursts on B');
    // B writes the phone's progress past both bursts.
    const last = await seqOf(second[second.length - 1]);
    await until(async () => Number(await client.hget(progressKey, 'w3')) >= last, "B's progress write");
    onB.disconnect();
    await until(async () => (await client.exists(`beep:lease:${moving.deviceId}`)) === 0, 'B to release the lease');

    // Stopped longer than a lease lives (Redis' TTL): the staying phone's lease on A has expired by now.
    const left = DEVICE_LEASE_TTL_MS + 3_000 - (Date.now() - stoppedAt);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    expect(await client.exists(`beep:lease:${staying.deviceId}`)).toBe(0);
  } finally {
    process.kill(a.runtime.pid, 'SIGCONT');
  }
  const before = await client.hgetall(progressKey);
  const seqB = Number(before.w3);

  // A wakes up: it closes both sockets, whose leases are gone, and says why.
  await onA.waitFor(() => onA.disconnectReason !== undefined, 30_000, 'A to close the moved phone\'s old socket');
  await stayer.waitFor(() => stayer.disconnectReason !== undefined, 30_000, 'A to close the staying phone (its lease expired)');
  const closed = (deviceId: string) => a.logs().split('\n').find((l) => l.includes('its lease is held elsewhere') && l.includes(deviceId));
  await until(async () => closed(moving.deviceId) !== undefined && closed(staying.deviceId) !== undefined, "A's log of both closes");
  expect(closed(moving.deviceId)).toMatch(/"why":"(fenced|lost|taken)"/);
  expect(closed(staying.deviceId)).toMatch(/"why":"(fenced|lost)"/);

  // A sentinel for A's progress writes: a phone that connects to A now acks, and A writes its progress.
  const prober = new Phone(probe);
  await prober.connect(a);
  const mark = await post(a, { body: 'after SIGCONT', priority: 3 });
  expect(mark.status).toBe(202);
  await prober.withBody('after SIGCONT', 30_000);
  const markSeq = await seqOf(mark.body.id as string);
  await until(async () => Number(await client.hget(`beep:progress:${probe.deviceId}`, 'w3')) >= markSeq, "A's later progress write");
  prober.disconnect();

  // A's late write did not land: the moved phone's progress is B's.
  expect(await client.hgetall(progressKey)).toEqual(before);
  expect(seqB).toBeGreaterThanOrEqual(lastFirst);

  // Delivery outcome: back on B, nothing of either burst comes again (only what came after: the mark, then the sentinel).
  const again = new Phone(moving);
  await again.connect(b);
  await again.sentinel(b, 30_000);
  expect([...again.unique.keys()].filter((id) => first.includes(id) || second.includes(id))).toEqual([]);
  again.disconnect();

  // The staying phone reconnects to A and is owed nothing it acked.
  const back = new Phone(staying);
  await back.connect(a);
  await back.sentinel(a, 30_000);
  expect([...back.unique.keys()].filter((id) => first.includes(id))).toEqual([]);
  back.disconnect();
});
