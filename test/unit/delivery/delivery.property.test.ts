import fc from 'fast-check';
import { Delivery } from '../../../app/delivery/delivery';
import { LocalRelayBus } from '../../../app/delivery/relay-bus';
import type { Priority } from '../../../app/domain/priority';
import { ManualTimers } from '../queue/manual-timers';
import { FakeConnection, FakeStore, settle, stored } from './fakes';

// Whatever interleaving of commits, acks, dismissals, reconnects, slow reads and timeouts, with a
// session bound far smaller than the backlog: every notification never dismissed reaches the
// device, each first send is FIFO within its priority and never passes an owed higher one, every
// frame is sorted, memory stays
// within the bound, and once everything is acked the stored progress owes nothing.

type Op =
  | { kind: 'commit'; priority: number; topic: boolean }
  | { kind: 'ack' }
  | { kind: 'ackAll' }
  | { kind: 'settle'; rounds: number }
  | { kind: 'dismiss'; pick: number }
  | { kind: 'reconnect' }
  | { kind: 'expire' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('commit' as const), priority: fc.integer({ min: 1, max: 5 }), topic: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'ack' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ackAll' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('settle' as const), rounds: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dismiss' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reconnect' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
);

async function scenario(backlog: number, maxHeld: number, topics: string[] | null, ops: Op[]): Promise<void> {
  const store = new FakeStore();
  const timers = new ManualTimers();
  const options = { batchWindowMs: 25, maxBatch: 2, maxInFlight: 2, redeliverAfterMs: 100, fanOutSlice: 64, maxHeld, saveIntervalMs: 50, saveChunkDevices: 2, dismissPage: 3 };
  const delivery = new Delivery(store, options, { timers, defer: (fn) => queueMicrotask(fn) });
  const bus = new LocalRelayBus((e) => {
    throw e;
  });
  bus.subscribe(delivery);
  store.addDevice('d', 0, topics);
  const wanted = (n: { topic: string | null }) => topics === null || n.topic === null || topics.includes(n.topic);
  let seq = 0;
  const dismissed = new Set<string>();
  const add = (priority: number, topic: boolean, live: boolean) => {
    const n = store.add(stored(++seq, { priority: priority as Priority, topic: topic ? 'chat' : null }));
    if (live) void bus.accepted(n);
  };
  // The backlog is of low priorities, so what arrives live often outranks it.
  for (let i = 0; i < backlog; i++) add((i % 3) + 1, i % 3 === 0, false);

  const phones: FakeConnection[] = [];
  /** Per connection, per frame: the last seq committed and what was dismissed when it left. */
  const sentAt = new Map<FakeConnection, { committed: number; dismissed: Set<string> }[]>();
  const connect = async () => {
    const phone = new FakeConnection('d');
    const log: { committed: number; dismissed: Set<string> }[] = [];
    sentAt.set(phone, log);
    const send = phone.sendBatch.bind(phone);
    phone.sendBatch = (items, onAck) => {
      log.push({ committed: seq, dismissed: new Set(dismissed) });
      send(items, onAck);
    };
    phones.push(phone);
    await delivery.attach(phone);
  };
  await connect();
  // A failing case must report, not hang: a session still reading would starve the reporter.
  try {
    for (const op of ops) {
      const phone = phones[phones.length - 1];
      if (op.kind === 'commit') add(op.priority, op.topic, true);
      else if (op.kind === 'ack') phone.ackNext();
      else if (op.kind === 'ackAll') phone.acks();
      else if (op.kind === 'settle') await settle(op.rounds);
      else if (op.kind === 'expire') timers.advance(options.redeliverAfterMs);
      else if (op.kind === 'reconnect') {
        delivery.detach('d', phone);
        await connect();
      } else {
        const open = store.notifications.filter((n) => n.dismissedAt === null);
        if (open.length === 0) continue;
        const n = open[op.pick % open.length];
        const { dismissalSeq } = store.dismiss(n.id);
        dismissed.add(n.id);
        void bus.dismissed({ id: n.id, seq: n.seq, dismissalSeq, byDevice: null });
      }
    }
    // Drain: the phone now acks everything it receives.
    const last = phones[phones.length - 1];
    last.acks();
    last.autoAck = true;
    for (let i = 0; i < 400; i++) {
      await settle(5);
      last.acks();
      timers.advance(options.redeliverAfterMs);
    }

    const owed = store.notifications.filter((n) => !dismissed.has(n.id) && wanted(n)).map((n) => n.id);
    const received = new Set(phones.flatMap((p) => p.ids.flat()));
    for (const id of owed) expect(received.has(id)).toBe(true);
    for (const n of store.notifications) if (!wanted(n)) expect(received.has(n.id)).toBe(false);
    const seenBefore = new Set<string>();
    for (const phone of phones) {
      const firstSeen = new Set<string>();
      const lastSeq = new Map<number, number>();
      phone.frames.forEach((frame, f) => {
        // A higher priority overtakes: no first send of priority q while an owed, never-sent one above q was committed.
        const { committed, dismissed: gone } = sentAt.get(phone)![f];
        const sentSoFar = new Set([...firstSeen, ...frame.items.map((i) => i.id)]);
        for (const item of frame.items) {
          if (firstSeen.has(item.id) || seenBefore.has(item.id)) continue;
          const skipped = store.notifications.filter(
            (n) => n.seq <= committed && n.priority > item.priority && wanted(n) && !gone.has(n.id) && !sentSoFar.has(n.id) && !seenBefore.has(n.id),
          );
          expect(skipped.map((n) => n.id)).toEqual([]);
        }
        const keys = frame.items.map((i) => [i.priority, Number(i.id.slice(1))] as const);
        expect([...keys].sort((a, b) => b[0] - a[0] || a[1] - b[1])).toEqual(keys);
        for (const [priority, s] of keys) {
          if (firstSeen.has(`n${s}`)) continue;
          firstSeen.add(`n${s}`);
          expect(s).toBeGreaterThan(lastSeq.get(priority) ?? 0);
          lastSeq.set(priority, s);
        }
      });
      for (const id of firstSeen) seenBefore.add(id);
    }
  } catch (error) {
    await delivery.closeAll();
    throw error;
  }
  expect(delivery.bufferedMax).toBeLessThanOrEqual(delivery.bufferBound);
  await delivery.closeAll();
  expect(await store.countOwed((await store.progress('d'))!)).toBe(0);
  for (const p of [1, 2, 3, 4, 5]) expect(store.progressRows.get('d')!.priorities[p].ackedAbove.length).toBeLessThanOrEqual(maxHeld);
}

describe('Delivery (property)', () => {
  it('delivers every owed notification, FIFO within a priority, within its memory bound, and ends owing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom(8, 12),
        fc.constantFrom<string[] | null>(null, ['alerts']),
        fc.array(opArb, { maxLength: 60 }),
        (backlog, maxHeld, topics, ops) => scenario(backlog, maxHeld, topics, ops),
      ),
      { numRuns: 150 },
    );
  });
});
