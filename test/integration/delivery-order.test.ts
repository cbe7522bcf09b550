import type { WireNotification } from '../../app/domain/notification';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// 1000 notifications of mixed priority reach a paired phone exactly once (after its dedupe),
// highest priority first among what was queued together, FIFO within a priority.

const COUNT = 1000;

function priorityOf(i: number): number {
  // A fixed, well-mixed pattern of all five priorities.
  return ((i * 7) % 5) + 1;
}

async function postAll(daemon: RunningDaemon, tag: string, concurrency = 16): Promise<string[]> {
  const ids: string[] = new Array(COUNT);
  let next = 0;
  async function worker() {
    while (next < COUNT) {
      const i = next++;
      const res = await daemon.admin('POST', '/api/v1/notifications', {
        title: `${tag} #${i}`,
        priority: priorityOf(i),
        id: `${tag}-${String(i).padStart(4, '0')}`,
      });
      if (res.status !== 202) throw new Error(`post ${i} answered ${res.status}: ${res.text}`);
      ids[i] = res.body.id;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/** seq order as the daemon accepted them = order of acceptedAt, then by history order. */
async function acceptanceOrder(daemon: RunningDaemon): Promise<string[]> {
  const order: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await daemon.admin<WireNotification[]>('GET', `/api/v1/notifications?limit=500${before ? `&before=${before}` : ''}`);
    if (page.body.length === 0) break;
    order.push(...page.body.map((n) => n.id));
    before = page.body[page.body.length - 1].id;
  }
  return order.reverse(); // history is newest first
}

function assertFifoWithinPriority(received: WireNotification[], accepted: string[]): void {
  const rank = new Map(accepted.map((id, i) => [id, i]));
  const lastByPriority = new Map<number, number>();
  for (const n of received) {
    const r = rank.get(n.id)!;
    const last = lastByPriority.get(n.priority) ?? -1;
    expect(r).toBeGreaterThan(last);
    lastByPriority.set(n.priority, r);
  }
}

function assertBatchesSorted(batches: WireNotification[][], accepted: string[]): void {
  const rank = new Map(accepted.map((id, i) => [id, i]));
  for (const batch of batches) {
    for (let i = 1; i < batch.length; i++) {
      const [a, b] = [batch[i - 1], batch[i]];
      expect(a.priority > b.priority || (a.priority === b.priority && rank.get(a.id)! < rank.get(b.id)!)).toBe(true);
    }
  }
}

describe('delivery order and exactly-once', () => {
  let daemon: RunningDaemon;

  beforeAll(async () => {
    // Redelivery far beyond any test's length: the batches held unacknowledged below must not be
    // resent (which frees their slots) however slowly a loaded machine posts the 1000.
    daemon = await startDaemon({ config: { queue: { redeliverAfterMs: 600_000 } } });
  });
  afterAll(async () => {
    await daemon.stop();
  });

  test('everything queued while offline arrives exactly once, strictly by priority then FIFO', async () => {
    const phone = await Phone.paired(daemon, 'offline phone');
    const ids = await postAll(daemon, 'offline');
    const accepted = (await acceptanceOrder(daemon)).filter((id) => id.startsWith('offline-'));
    expect(accepted).toHaveLength(COUNT);

    await phone.connect(daemon);
    await phone.waitFor(() => phone.unique.size === COUNT, 30_000, 'all 1000');
    const sentinel = await phone.sentinel(daemon); // anything sent twice would have come before it
    phone.disconnect();

    const arrivals = phone.arrivals.filter((n) => n.id !== sentinel);
    expect(new Set(arrivals.map((n) => n.id))).toEqual(new Set(ids));
    expect(arrivals).toHaveLength(COUNT); // acked promptly: nothing was sent twice
    const rank = new Map(accepted.map((id, i) => [id, i]));
    const expected = [...arrivals].sort((a, b) => b.priority - a.priority || rank.get(a.id)! - rank.get(b.id)!);
    expect(arrivals.map((n) => n.id)).toEqual(expected.map((n) => n.id));
    expect(phone.batches.every((b) => b.length <= 64)).toBe(true);
  });

  test('while connected: every id once, batches sorted, FIFO within a priority', async () => {
    const phone = await Phone.paired(daemon, 'live phone');
    await phone.connect(daemon);
    const ids = await postAll(daemon, 'live', 32);
    await phone.waitFor(() => phone.unique.size === COUNT, 30_000, 'all 1000');
    const sentinel = await phone.sentinel(daemon);
    phone.disconnect();

    const accepted = (await acceptanceOrder(daemon)).filter((id) => id.startsWith('live-'));
    const arrivals = phone.arrivals.filter((n) => n.id !== sentinel);
    expect(new Set(arrivals.map((n) => n.id))).toEqual(new Set(ids));
    expect(arrivals.length).toBe(COUNT);
    assertFifoWithinPriority(arrivals, accepted);
    assertBatchesSorted(phone.batches, accepted);
    // Batching really happened: far fewer frames than notifications.
    expect(phone.batches.length).toBeLessThan(COUNT);
  });

  test('what piles up behind unacknowledged batches leaves strictly by priority', async () => {
    const phone = await Phone.paired(daemon, 'slow phone');
    phone.ackPolicy = 'none';
    await phone.connect(daemon);
    // Fill the 4 in-flight slots with low-priority items that stay unacknowledged.
    for (let i = 0; i < 4; i++) {
      await daemon.admin('POST', '/api/v1/notifications', { title: `blocker ${i}`, priority: 1, id: `blocker-${i}` });
      await phone.waitFor(() => phone.batches.length === i + 1, 5_000, `blocker batch ${i}`);
    }
    // Everything posted now is queued behind them.
    const ids = await postAll(daemon, 'queued');
    expect(phone.batches).toHaveLength(4);
    phone.ackPolicy = 'all';
    for (const held of phone.held.splice(0)) held.ack({ ack: held.items.map((n) => n.id) });
    await phone.waitFor(() => ids.every((id) => phone.unique.has(id)), 30_000, 'queued ones');
    phone.disconnect();

    const accepted = (await acceptanceOrder(daemon)).filter((id) => id.startsWith('queued-'));
    const rank = new Map(accepted.map((id, i) => [id, i]));
    const afterBlockers = phone.arrivals.filter((n) => n.id.startsWith('queued-'));
    const expected = [...afterBlockers].sort((a, b) => b.priority - a.priority || rank.get(a.id)! - rank.get(b.id)!);
    expect(afterBlockers.map((n) => n.id)).toEqual(expected.map((n) => n.id));
    expect(afterBlockers).toHaveLength(COUNT);
  });
});
