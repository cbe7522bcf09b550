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
const notes = (from: number, to: number, priority = 1): Note[] =>
  Array.from({ length: to - from + 1 }, (_, i) => note(from + i, priority));
const seqs = (batch: OutgoingBatch<Note>) => batch.items.map((item) => item.seq);

/** Puts one unacknowledged batch in flight (seq 1000), so what follows gathers. */
function busy(queue: DeviceQueue<Note>, sent: OutgoingBatch<Note>[]): number {
  queue.enqueue(note(1000));
  return sent[sent.length - 1].batchId;
}

describe('DeviceQueue batching', () => {
  it('a lone item to an idle queue leaves at once, in its own batch; no timer but its redelivery deadline', () => {
    const { timers, sent, queue } = setup();
    queue.enqueue(note(1));
    expect(sent).toEqual([{ batchId: 1, items: [note(1)], redelivered: 0 }]);
    expect(timers.now()).toBe(0);
    expect(timers.pendingCount).toBe(1);
    expect(timers.nextDue()).toBe(BASE.redeliverAfterMs);
  });

  it('what arrives while a batch waits for its ack gathers into one batch, which the ack releases', () => {
    const { timers, sent, queue } = setup();
    queue.enqueue(note(1));
    timers.advance(5);
    queue.enqueue(note(2));
    queue.enqueue(note(3, 2));
    timers.advance(5);
    expect(sent.map(seqs)).toEqual([[1]]);
    expect(queue.pendingCount).toBe(2);
    queue.acknowledge(1, [1]);
    expect(sent[1]).toEqual({ batchId: 2, items: [note(3, 2), note(2)], redelivered: 0 });
    expect(timers.now()).toBe(10);
    expect(queue.inFlightBatches).toBe(1);
  });

  it('the window is a cap: without an ack, what gathered leaves 25 ms after the first of it, not before', () => {
    const { timers, sent, queue } = setup();
    busy(queue, sent);
    queue.enqueue(note(1));
    timers.advance(10);
    queue.enqueue(note(2));
    queue.enqueue(note(3, 2));
    timers.advance(14);
    expect(sent).toHaveLength(1);
    expect(queue.pendingCount).toBe(3);
    timers.advance(1);
    expect(sent[1]).toEqual({ batchId: 2, items: [note(3, 2), note(1), note(2)], redelivered: 0 });
    expect(queue.pendingCount).toBe(0);
    expect(queue.inFlightBatches).toBe(2);
    expect(queue.inFlightCount).toBe(4);
  });

  it('gathering starts afresh for the first item after the queue drained', () => {
    const { timers, sent, queue } = setup();
    busy(queue, sent);
    queue.enqueue(note(1));
    timers.advance(25);
    timers.advance(15); // t = 40
    queue.enqueue(note(2));
    timers.advance(24);
    expect(sent).toHaveLength(2);
    timers.advance(1); // t = 65
    expect(sent.map(seqs).slice(1)).toEqual([[1], [2]]);
  });

  it('sends at once when 64 items wait, and the rest when the cap ends', () => {
    const { timers, sent, queue } = setup();
    busy(queue, sent);
    queue.enqueueMany(notes(1, 63));
    expect(sent).toHaveLength(1);
    queue.enqueue(note(64));
    expect(sent).toHaveLength(2);
    expect(seqs(sent[1])).toEqual(notes(1, 64).map((n) => n.seq));
    queue.enqueueMany(notes(65, 74));
    expect(sent).toHaveLength(2);
    timers.advance(24);
    expect(sent).toHaveLength(2);
    timers.advance(1);
    expect(sent.map(seqs).slice(1)).toEqual([notes(1, 64).map((n) => n.seq), notes(65, 74).map((n) => n.seq)]);
  });

  it('sends an urgent item at once, taking waiting items along in priority order', () => {
    const { sent, queue } = setup();
    busy(queue, sent);
    queue.enqueue(note(1, 1));
    queue.enqueue(note(2, 4)); // 4 is not urgent
    expect(sent).toHaveLength(1);
    queue.enqueue(note(3, 5));
    expect(sent[1]).toEqual({ batchId: 2, items: [note(3, 5), note(2, 4), note(1, 1)], redelivered: 0 });
  });

  it('never has more than maxInFlight unacknowledged batches', () => {
    const { sent, queue } = setup({ maxBatch: 2, maxInFlight: 2 });
    queue.enqueueMany(notes(1, 9), { flush: true });
    expect(sent.map(seqs)).toEqual([[1, 2], [3, 4]]);
    expect(queue.inFlightBatches).toBe(2);
    expect(queue.pendingCount).toBe(5);
    expect(queue.acknowledge(1, [1, 2])).toEqual([1, 2]);
    expect(sent.map(seqs)).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(queue.inFlightBatches).toBe(2);
    queue.acknowledge(3, [5, 6]);
    queue.acknowledge(2, [3, 4]);
    expect(sent.map((b) => b.batchId)).toEqual([1, 2, 3, 4, 5]);
    expect(sent.slice(3).map(seqs)).toEqual([[7, 8], [9]]);
  });

  it('flushes a backlog at once across batches, highest priority first', () => {
    const { sent, queue } = setup({ maxBatch: 3, maxInFlight: 2 });
    const backlog = [note(1, 1), note(2, 3), note(3, 1), note(4, 3), note(5, 2), note(6, 1), note(7, 4)];
    expect(queue.enqueueMany(backlog, { flush: true })).toBe(7);
    expect(sent.map(seqs)).toEqual([[7, 2, 4], [5, 1, 3]]);
    expect(queue.depthByPriority()).toEqual({ 1: 1 });
  });

  it('a higher priority arriving behind a backlog overtakes what of it has not left', () => {
    const { sent, queue } = setup({ maxBatch: 2, maxInFlight: 1 });
    queue.enqueueMany(notes(1, 6, 3), { flush: true });
    expect(sent.map(seqs)).toEqual([[1, 2]]);
    queue.enqueue(note(7, 5));
    queue.acknowledge(1, [1, 2]);
    expect(sent.map(seqs)).toEqual([[1, 2], [7, 3]]);
  });

  it('flushNow sends what gathered without waiting for an ack or the cap', () => {
    const { sent, queue } = setup();
    busy(queue, sent);
    queue.enqueueMany(notes(1, 3));
    expect(sent).toHaveLength(1);
    queue.flushNow();
    expect(sent.map(seqs)[1]).toEqual([1, 2, 3]);
  });

  it('ignores a seq that is pending, in flight or settled', () => {
    const { timers, sent, queue } = setup();
    busy(queue, sent);
    expect(queue.enqueue(note(1))).toBe(true);
    expect(queue.enqueue(note(1, 5))).toBe(false); // pending: not even as urgent
    expect(sent).toHaveLength(1);
    timers.advance(25);
    expect(queue.enqueue(note(1))).toBe(false); // in flight
    queue.acknowledge(2, [1]);
    expect(queue.enqueueMany([note(1), note(2)])).toBe(1); // 1 settled
    timers.advance(25);
    expect(sent.map(seqs).slice(1)).toEqual([[1], [2]]);
  });

  it('reports depth by priority for waiting items only', () => {
    const { timers, sent, queue } = setup();
    busy(queue, sent);
    queue.enqueueMany([note(1, 1), note(2, 1), note(3, 3)]);
    expect(queue.depthByPriority()).toEqual({ 1: 2, 3: 1 });
    timers.advance(25);
    expect(queue.depthByPriority()).toEqual({});
    expect(queue.inFlightCount).toBe(4);
  });

  it('copes with a send callback that acknowledges synchronously', () => {
    const timers = new ManualTimers();
    const sent: number[][] = [];
    const queue: DeviceQueue<Note> = new DeviceQueue<Note>({ ...BASE, maxBatch: 2, maxInFlight: 1 }, timers, (batch) => {
      sent.push(batch.items.map((i) => i.seq));
      queue.acknowledge(batch.batchId, batch.items.map((i) => i.seq));
    });
    queue.enqueueMany(notes(1, 5), { flush: true });
    expect(sent).toEqual([[1, 2], [3, 4], [5]]);
    expect(queue.inFlightBatches).toBe(0);
  });

  it('validates options and items', () => {
    const timers = new ManualTimers();
    expect(() => new DeviceQueue<Note>({ ...BASE, maxInFlight: 0 }, timers, () => {})).toThrow(RangeError);
    expect(() => new DeviceQueue<Note>({ ...BASE, redeliverAfterMs: 0 }, timers, () => {})).toThrow(RangeError);
    expect(() => new DeviceQueue<Note>({ ...BASE, maxBatch: 0 }, timers, () => {})).toThrow(RangeError);
    const { queue } = setup();
    expect(() => queue.enqueue(note(Number.NaN))).toThrow(TypeError);
  });
});
