import type { WireNotification } from '../../app/domain/notification';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { parseMetrics, value } from '../helpers/metrics';
import { Phone } from '../helpers/phone';

// A phone that was away catches up on a 20,000 backlog: it gets every one, strictly by priority
// then FIFO; a new urgent notification overtakes what of the backlog has not left yet; and the
// daemon never holds more of it in memory than the page bound (the high-water gauge, read at
// the end), because the backlog is read from the store a page at a time.

const COUNT = 20_000;
const priorityOf = (i: number) => (i % 3) + 1; // min, low, default: urgent is only the newcomer

async function postAll(daemon: RunningDaemon, concurrency = 32): Promise<void> {
  let next = 0;
  async function worker() {
    while (next < COUNT) {
      const i = next++;
      const res = await daemon.admin('POST', '/api/v1/notifications', { title: `backlog #${i}`, priority: priorityOf(i), id: `b-${String(i).padStart(5, '0')}` });
      if (res.status !== 202) throw new Error(`post ${i} answered ${res.status}: ${res.text}`);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Public ids in the order the daemon accepted them (history is newest first). */
async function acceptanceOrder(daemon: RunningDaemon): Promise<string[]> {
  const order: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await daemon.admin<WireNotification[]>('GET', `/api/v1/notifications?limit=500${before ? `&before=${before}` : ''}`);
    if (page.body.length === 0) break;
    order.push(...page.body.map((n) => n.id));
    before = page.body[page.body.length - 1].id;
  }
  return order.reverse();
}

let daemon: RunningDaemon;
beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(async () => {
  await daemon.stop();
});

test('a 20,000 backlog arrives whole and in order, a new urgent one overtakes it, and memory stays within the page bound', async () => {
  const phone = await Phone.paired(daemon, 'back from holiday');
  await postAll(daemon);
  const rank = new Map((await acceptanceOrder(daemon)).map((id, i) => [id, i]));

  // Part-way through the catch-up the phone stops acking for a moment; an urgent one is posted then.
  let urgentPosted = false;
  let receivedAtHold = 0;
  phone.ackPolicy = (items) => {
    if (urgentPosted || phone.unique.size < 1000) return items.map((n) => n.id);
    receivedAtHold ||= phone.unique.size;
    return null;
  };
  await phone.connect(daemon);
  await phone.waitFor(() => phone.held.length > 0, 60_000, 'the catch-up to reach 1000');
  const urgent = await daemon.admin('POST', '/api/v1/notifications', { title: 'server on fire', priority: 5 });
  expect(urgent.status).toBe(202);
  urgentPosted = true;
  for (const held of phone.held.splice(0)) held.ack({ ack: held.items.map((n) => n.id) });
  await phone.waitFor(() => phone.unique.size === COUNT + 1, 120_000, `all ${COUNT} and the urgent one`);
  const sentinel = await phone.sentinel(daemon);
  phone.disconnect();

  const arrivals = phone.arrivals.filter((n) => n.id !== sentinel);
  expect(arrivals).toHaveLength(COUNT + 1); // acked promptly: nothing was sent twice
  const at = arrivals.findIndex((n) => n.id === urgent.body.id);
  // It left with the first frames after the ones already in flight when it was posted (4 × 64).
  expect(at).toBeGreaterThanOrEqual(receivedAtHold);
  expect(at).toBeLessThan(receivedAtHold + 4 * 64 + 64);
  const backlog = arrivals.filter((n) => n.id !== urgent.body.id);
  const expected = [...backlog].sort((a, b) => b.priority - a.priority || rank.get(a.id)! - rank.get(b.id)!);
  expect(backlog.map((n) => n.id)).toEqual(expected.map((n) => n.id));

  const metrics = parseMetrics((await daemon.admin('GET', '/metrics')).text);
  const held = value(metrics, 'beep_delivery_buffered_max')!;
  const bound = value(metrics, 'beep_delivery_buffered_bound')!;
  expect(bound).toBe(512);
  expect(held).toBeGreaterThan(0);
  expect(held).toBeLessThanOrEqual(bound);
}, 300_000);
