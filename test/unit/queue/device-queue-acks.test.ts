import { DeviceQueue, type DeviceQueueOptions, type OutgoingBatch } from '../../../app/queue/device-queue';
import { ManualTimers } from './manual-timers';

type Note = { seq: number; priority: number };

const BASE: DeviceQueueOptions = { batchWindowMs: 25, maxBatch: 64, maxInFlight: 4, redeliverAfterMs: 1000, urgentPriority: 5 };

function setup(overrides: Partial<DeviceQueueOptions> = {}) {
  const timers = new ManualTimers();
  const sent: OutgoingBatch<Note>[] = [];
  const queue = new DeviceQueue<Note>({ ...BASE, ...overrides }, timers, (batch) => sent.push(batch));
  return { timers, sent, queue };
}
const note = (seq: number, priority = 1): Note => ({ seq, priority });
const seqs = (batch: OutgoingBatch<Note>) => batch.items.map((item) => item.seq);

describe('DeviceQueue acknowledgements and redelivery', () => {
  it('a full ack settles the batch for good', () => {
    const { timers, sent, queue } = setup();
    queue.enqueueMany([note(1), note(2)], { flush: true });
    expect(queue.acknowledge(1, [1, 2])).toEqual([1, 2]);
    expect(queue.inFlightBatches).toBe(0);
    expect(timers.pendingCount).toBe(0);
    timers.advance(10_000);
    expect(sent).toHaveLength(1);
    expect(queue.acknowledge(1, [1, 2])).toEqual([]); // duplicate ack settles nothing new
  });

  it('a partial ack resends the rest at once, counted as redelivered', () => {
    const { sent, queue } = setup();
    queue.enqueueMany([note(1), note(2), note(3, 3)], { flush: true });
    expect(seqs(sent[0])).toEqual([3, 1, 2]);
    expect(queue.acknowledge(1, [3, 2])).toEqual([3, 2]);
    expect(sent[1]).toEqual({ batchId: 2, items: [note(1)], redelivered: 1 });
  });

  it('redelivers exactly the unacked items after redeliverAfterMs', () => {
    const { timers, sent, queue } = setup({ maxBatch: 2 });
    queue.enqueueMany([note(1), note(2), note(3), note(4)], { flush: true });
    expect(sent.map(seqs)).toEqual([[1, 2], [3, 4]]);
    timers.advance(500);
    queue.acknowledge(1, [1, 2]);
    queue.enqueue(note(5));
    timers.advance(25); // 5 leaves alone after its window, at t = 525
    expect(sent.map(seqs)).toEqual([[1, 2], [3, 4], [5]]);
    timers.advance(474);
    expect(sent).toHaveLength(3);
    timers.advance(1); // batch 2 expires at t = 1000
    expect(sent[3]).toEqual({ batchId: 4, items: [note(3), note(4)], redelivered: 2 });
    expect(queue.inFlightBatches).toBe(2);
    timers.advance(525); // batch 3 expires at t = 1525
    expect(sent[4]).toEqual({ batchId: 5, items: [note(5)], redelivered: 1 });
  });

  it('mixes resends and new items in priority order, counting only resends', () => {
    const { timers, sent, queue } = setup({ maxInFlight: 1 });
    queue.enqueueMany([note(1), note(2)], { flush: true });
    queue.enqueueMany([note(3, 4), note(4)]); // waits: the only slot is taken
    timers.advance(1000);
    expect(sent[1]).toEqual({ batchId: 2, items: [note(3, 4), note(1), note(2), note(4)], redelivered: 2 });
  });

  it('a late ack of an expired batch settles its seqs and frees the resend', () => {
    const { timers, sent, queue } = setup();
    queue.enqueueMany([note(1), note(2)], { flush: true });
    timers.advance(1000);
    expect(sent[1]).toMatchObject({ batchId: 2, redelivered: 2 });
    expect(queue.acknowledge(1, [1, 2])).toEqual([1, 2]);
    expect(queue.inFlightBatches).toBe(0); // batch 2 had nothing left to wait for
    expect(queue.acknowledge(2, [1, 2])).toEqual([]);
    timers.advance(10_000);
    expect(sent).toHaveLength(2);
  });

  it('a late ack settles items waiting to be resent, so they are not resent', () => {
    const { timers, sent, queue } = setup({ maxInFlight: 1, maxBatch: 1 });
    queue.enqueueMany([note(1), note(2)], { flush: true });
    timers.advance(1000); // batch 1 expired; 1 is resent as batch 2, 2 still waits
    expect(sent.map(seqs)).toEqual([[1], [1]]);
    expect(queue.acknowledge(99, [1])).toEqual([1]); // unknown batchId, still settles
    expect(sent.map(seqs)).toEqual([[1], [1], [2]]);
  });

  it('ignores acks for seqs that were never sent', () => {
    const { timers, sent, queue } = setup({ maxInFlight: 1 });
    queue.enqueue(note(1)); // leaves at once: the only slot is now taken
    queue.enqueue(note(2)); // waits for that slot
    expect(queue.acknowledge(7, [2, 42])).toEqual([]);
    timers.advance(25);
    expect(sent.map(seqs)).toEqual([[1]]);
    queue.acknowledge(1, [1]);
    expect(sent.map(seqs)).toEqual([[1], [2]]);
  });

  it('settle() removes items from the heap and from in-flight batches', () => {
    const { timers, sent, queue } = setup();
    queue.enqueue(note(9)); // a batch in flight: what follows gathers
    queue.enqueueMany([note(1), note(2), note(3)]);
    expect(queue.settle([1])).toEqual([1]);
    expect(queue.pendingCount).toBe(2);
    timers.advance(25);
    queue.enqueueMany([note(4), note(5)]);
    timers.advance(25);
    expect(sent.map(seqs)).toEqual([[9], [2, 3], [4, 5]]);
    expect(queue.settle([3, 4, 5, 77])).toEqual([3, 4, 5]);
    expect(queue.inFlightBatches).toBe(2); // batch 3 emptied, its slot freed
    expect(queue.inFlightCount).toBe(2);
    timers.advance(974); // t = 1024: batch 1 ([9], sent at t = 0) expired at t = 1000
    expect(sent.slice(3)).toEqual([{ batchId: 4, items: [note(9)], redelivered: 1 }]);
    timers.advance(1); // batch 2 (sent at t = 25) expires; only 2 is left in it
    expect(sent[4]).toEqual({ batchId: 5, items: [note(2)], redelivered: 1 });
    expect(queue.enqueue(note(77))).toBe(false); // settled before it was ever queued
  });

  it('settle() of the only waiting item cancels its gathering wake-up', () => {
    const { timers, sent, queue } = setup();
    queue.enqueue(note(9));
    expect(timers.pendingCount).toBe(1); // batch 1's redelivery deadline
    queue.enqueue(note(1));
    expect(timers.pendingCount).toBe(2); // + the gathering cap
    queue.settle([1]);
    expect(queue.pendingCount).toBe(0);
    expect(timers.pendingCount).toBe(1);
    timers.advance(100);
    expect(sent.map(seqs)).toEqual([[9]]);
  });

  it('close() cancels every timer and nothing is sent afterwards', () => {
    const { timers, sent, queue } = setup({ maxInFlight: 1 });
    queue.enqueueMany([note(1)], { flush: true });
    queue.enqueue(note(2));
    queue.close();
    expect(timers.pendingCount).toBe(0);
    expect(queue.enqueue(note(3, 5))).toBe(false);
    expect(queue.acknowledge(1, [1])).toEqual([1]);
    queue.flushNow();
    timers.advance(100_000);
    expect(sent.map(seqs)).toEqual([[1]]);
  });
});

describe('DeviceQueue memory of settled seqs', () => {
  it('forgetSettledUpTo drops what its owner will never enqueue again, and keeps the rest', () => {
    const { sent, queue } = setup();
    queue.enqueueMany([1, 2, 3, 4].map((seq) => note(seq, 3)), { flush: true });
    queue.acknowledge(sent[0].batchId, [1, 2, 3, 4]);
    expect(queue.rememberedSettled).toBe(4);
    queue.forgetSettledUpTo(3);
    expect(queue.rememberedSettled).toBe(1);
    // Seq 4 is still remembered: enqueuing it again is ignored.
    expect(queue.enqueue(note(4, 3))).toBe(false);
  });
});

describe('DeviceQueue for a paged backlog', () => {
  it('forgetSettled drops settled seqs by their own priority’s watermark', () => {
    const { sent, queue } = setup();
    queue.enqueueMany([note(1, 5), note(2, 3), note(3, 5), note(4, 3)], { flush: true });
    queue.acknowledge(sent[0].batchId, [1, 2, 3, 4]);
    queue.forgetSettled((seq, priority) => seq <= (priority === 5 ? 3 : 2));
    expect(queue.rememberedSettled).toBe(1);
    expect(queue.enqueue(note(4, 3))).toBe(false);
  });

  it('evictPendingBelow drops waiting items below a priority, neither sent nor settled: they may come back', () => {
    const { timers, sent, queue } = setup({ maxInFlight: 1 });
    queue.enqueue(note(1, 3)); // in flight
    queue.enqueueMany([note(2, 1), note(3, 3), note(4, 2)]);
    expect(queue.evictPendingBelow(3).map((n) => n.seq).sort()).toEqual([2, 4]);
    expect(queue.pendingCount).toBe(1);
    expect(queue.enqueue(note(2, 1))).toBe(true); // read again later
    queue.acknowledge(1, [1]);
    timers.advance(0);
    expect(sent.map(seqs)).toEqual([[1], [3, 2]]);
  });
});

describe('DeviceQueue resolving an ack by key (itemsByKey)', () => {
  const keyOf = (n: Note) => `n${n.seq}`;

  it('finds the batch items in the order given, then any other held item, and skips the rest', () => {
    const { timers, queue } = setup({ maxBatch: 2 });
    queue.enqueueMany([note(1), note(2), note(3), note(4)], { flush: true });
    expect(queue.itemsByKey(1, ['n1', 'n2'], keyOf).map((n) => n.seq)).toEqual([1, 2]);
    // Out of order, another batch's item, an unknown id and a non-string: found by the index, or skipped.
    expect(queue.itemsByKey(1, ['n2', 'n4', 'n9', 7, 'n1'], keyOf).map((n) => n.seq)).toEqual([2, 4, 1]);
    // A late ack for an expired batch: its items went back to the queue and are found there.
    timers.advance(1000);
    expect(queue.itemsByKey(1, ['n1'], keyOf).map((n) => n.seq)).toEqual([1]);
  });

  it('a hostile list of keys costs one index over what is held, and settles nothing extra', () => {
    const { queue } = setup();
    queue.enqueueMany([note(1), note(2)], { flush: true });
    const junk = Array.from({ length: 1000 }, (_x, i) => `x${i}`);
    const found = queue.itemsByKey(1, [...junk, 'n2', 'n2'], keyOf);
    expect(found.map((n) => n.seq)).toEqual([2, 2]);
    expect(queue.acknowledge(1, found.map((n) => n.seq))).toEqual([2]);
    expect(queue.held(1)).toEqual(note(1)); // resent, still held
    expect(queue.held(2)).toBeUndefined();
  });
});

describe('DeviceQueue with its owner remembering what is settled (SettledMemory)', () => {
  it('asks the owner, tells it each settled seq with its priority, and keeps no memory of its own', () => {
    const timers = new ManualTimers();
    const owner = new Map<number, number>();
    const memory = { has: (seq: number) => owner.has(seq), add: (seq: number, priority: number) => void owner.set(seq, priority) };
    const queue = new DeviceQueue<Note>(BASE, timers, () => undefined, memory);
    queue.enqueueMany([note(1, 3), note(2)], { flush: true });
    queue.acknowledge(1, [1]);
    expect([...owner]).toEqual([[1, 3]]);
    expect(queue.rememberedSettled).toBe(0);
    expect(queue.enqueue(note(1, 3))).toBe(false); // the owner says it is settled
    owner.set(5, 1);
    expect(queue.enqueue(note(5))).toBe(false);
    expect(queue.enqueue(note(6))).toBe(true);
  });
});
