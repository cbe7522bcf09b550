import fc from 'fast-check';
import { byPriorityThenSeq } from '../../../app/queue/binary-heap';
import { DeviceQueue, type DeviceQueueOptions, type OutgoingBatch } from '../../../app/queue/device-queue';
import { ManualTimers } from './manual-timers';

type Note = { seq: number; priority: number };

type Op =
  | { kind: 'enqueue'; priorities: number[]; flush: boolean }
  | { kind: 'duplicate'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'ackOldest' }
  | { kind: 'ackPartialOldest'; mask: number }
  | { kind: 'expire' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('enqueue' as const), priorities: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }), flush: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'ackOldest' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ackPartialOldest' as const), mask: fc.nat({ max: 255 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
);

const optionsArb: fc.Arbitrary<DeviceQueueOptions> = fc.record({
  batchWindowMs: fc.integer({ min: 0, max: 30 }),
  maxBatch: fc.integer({ min: 1, max: 6 }),
  maxInFlight: fc.integer({ min: 1, max: 3 }),
  redeliverAfterMs: fc.integer({ min: 20, max: 200 }),
  urgentPriority: fc.integer({ min: 3, max: 6 }),
});

interface SentRecord {
  batch: OutgoingBatch<Note>;
  sentAt: number;
  acked: boolean;
}

function runScenario(options: DeviceQueueOptions, ops: Op[]): void {
  const timers = new ManualTimers();
  const sent: SentRecord[] = [];
  const enqueued: Note[] = [];
  const everSent = new Set<number>();
  const settledCount = new Map<number, number>();
  const lastFirstSent = new Map<number, number>();
  let queue: DeviceQueue<Note>;

  const liveBatches = (now: number) =>
    sent.filter((r) => !r.acked && now < r.sentAt + options.redeliverAfterMs && r.batch.items.some((i) => !settledCount.has(i.seq))).length;

  const onSend = (batch: OutgoingBatch<Note>): void => {
    const now = timers.now();
    expect(batch.batchId).toBe(sent.length + 1);
    expect(batch.items.length).toBeGreaterThanOrEqual(1);
    expect(batch.items.length).toBeLessThanOrEqual(options.maxBatch);
    // (b) each batch is sorted by priority desc, then seq asc
    expect([...batch.items].sort(byPriorityThenSeq)).toEqual(batch.items);
    // nothing still waiting outranks what just left
    const lowestSent = batch.items[batch.items.length - 1].priority;
    for (const [priority, depth] of Object.entries(queue.depthByPriority())) {
      if (depth > 0) expect(Number(priority)).toBeLessThanOrEqual(lowestSent);
    }
    let resends = 0;
    for (const item of batch.items) {
      expect(settledCount.has(item.seq)).toBe(false); // settled items never leave again
      if (everSent.has(item.seq)) {
        resends++;
        continue;
      }
      // (c) within a priority, first sends happen in seq order
      expect(item.seq).toBeGreaterThan(lastFirstSent.get(item.priority) ?? 0);
      lastFirstSent.set(item.priority, item.seq);
      everSent.add(item.seq);
    }
    expect(batch.redelivered).toBe(resends);
    sent.push({ batch, sentAt: now, acked: false });
    // (d) never more than maxInFlight unacknowledged batches
    expect(queue.inFlightBatches).toBeLessThanOrEqual(options.maxInFlight);
    expect(liveBatches(now)).toBeLessThanOrEqual(options.maxInFlight);
  };
  queue = new DeviceQueue<Note>(options, timers, onSend);

  const ack = (record: SentRecord, seqs: number[]): void => {
    record.acked = true;
    const expected = seqs.filter((s) => !settledCount.has(s));
    // Recorded before the call: the ack can free a slot and trigger a send synchronously.
    for (const s of expected) settledCount.set(s, 0);
    const settled = queue.acknowledge(record.batch.batchId, seqs);
    expect(settled).toEqual(expected);
    for (const s of settled) settledCount.set(s, (settledCount.get(s) ?? 0) + 1);
  };
  const oldestUnacked = () => sent.find((r) => !r.acked);

  for (const op of ops) {
    if (op.kind === 'enqueue') {
      const notes = op.priorities.map((priority, i) => ({ seq: enqueued.length + 1 + i, priority }));
      enqueued.push(...notes);
      expect(queue.enqueueMany(notes, { flush: op.flush })).toBe(notes.length);
    } else if (op.kind === 'duplicate') {
      if (enqueued.length > 0) expect(queue.enqueue({ ...enqueued[op.pick % enqueued.length] })).toBe(false);
    } else if (op.kind === 'advance') {
      timers.advance(op.ms);
    } else if (op.kind === 'expire') {
      timers.advance(options.redeliverAfterMs);
    } else {
      const record = oldestUnacked();
      if (record === undefined) continue;
      const all = record.batch.items.map((i) => i.seq);
      ack(record, op.kind === 'ackOldest' ? all : all.filter((_, i) => (op.mask >> i) & 1));
    }
    expect(queue.inFlightBatches).toBeLessThanOrEqual(options.maxInFlight);
  }

  // Drain: the device now acknowledges everything it receives.
  for (let round = 0; queue.pendingCount + queue.inFlightBatches > 0; round++) {
    expect(round).toBeLessThan(1000);
    for (let record = oldestUnacked(); record !== undefined; record = oldestUnacked()) {
      ack(record, record.batch.items.map((i) => i.seq));
    }
    timers.advance(options.batchWindowMs + 1);
  }

  // (a) every enqueued seq was sent and acknowledged exactly once
  expect([...everSent].sort((a, b) => a - b)).toEqual(enqueued.map((n) => n.seq));
  expect([...settledCount.keys()].sort((a, b) => a - b)).toEqual(enqueued.map((n) => n.seq));
  expect([...settledCount.values()].every((count) => count === 1)).toBe(true);
  queue.close();
  expect(timers.pendingCount).toBe(0);
}

describe('DeviceQueue (property)', () => {
  it('delivers everything exactly once, in order, within the in-flight limit', () => {
    fc.assert(
      fc.property(optionsArb, fc.array(opArb, { maxLength: 80 }), (options, ops) => runScenario(options, ops)),
      { numRuns: 400 },
    );
  });
});
