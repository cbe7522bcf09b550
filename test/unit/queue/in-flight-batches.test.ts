import { InFlightBatches } from '../../../app/queue/in-flight-batches';
import { ManualTimers } from './manual-timers';

function setup(expireAfterMs = 100) {
  const timers = new ManualTimers();
  const expired: Array<{ batchId: number; seqs: number[] }> = [];
  const inFlight = new InFlightBatches(timers, expireAfterMs, (batchId, seqs) => expired.push({ batchId, seqs }));
  return { timers, expired, inFlight };
}

describe('InFlightBatches', () => {
  it('counts open batches and their items', () => {
    const { inFlight } = setup();
    inFlight.open(1, [10, 11]);
    inFlight.open(2, [12]);
    expect(inFlight.size).toBe(2);
    expect(inFlight.itemCount).toBe(3);
  });

  it('take closes the batch, returns its seqs and cancels its deadline', () => {
    const { timers, expired, inFlight } = setup();
    inFlight.open(1, [10, 11]);
    expect(inFlight.take(1)).toEqual([10, 11]);
    expect(inFlight.take(1)).toBeUndefined();
    expect(inFlight.size).toBe(0);
    expect(timers.pendingCount).toBe(0);
    timers.advance(1000);
    expect(expired).toEqual([]);
  });

  it('expires a batch after exactly expireAfterMs with its unsettled seqs', () => {
    const { timers, expired, inFlight } = setup(100);
    inFlight.open(1, [10, 11, 12]);
    inFlight.removeSeq(1, 11);
    timers.advance(99);
    expect(expired).toEqual([]);
    timers.advance(1);
    expect(expired).toEqual([{ batchId: 1, seqs: [10, 12] }]);
    expect(inFlight.size).toBe(0);
  });

  it('removeSeq closes a batch left empty and ignores unknown seqs or batches', () => {
    const { timers, expired, inFlight } = setup();
    inFlight.open(1, [10]);
    inFlight.open(2, [20]);
    inFlight.removeSeq(1, 99);
    inFlight.removeSeq(7, 10);
    expect(inFlight.size).toBe(2);
    inFlight.removeSeq(1, 10);
    expect(inFlight.size).toBe(1);
    expect(inFlight.take(1)).toBeUndefined();
    timers.advance(1000);
    expect(expired).toEqual([{ batchId: 2, seqs: [20] }]);
  });

  it('cancelTimers stops every deadline', () => {
    const { timers, expired, inFlight } = setup();
    inFlight.open(1, [10]);
    inFlight.open(2, [20]);
    inFlight.cancelTimers();
    expect(timers.pendingCount).toBe(0);
    timers.advance(1000);
    expect(expired).toEqual([]);
  });
});
