import { BATCHER_DEFAULTS, Batcher } from '../../../app/queue/batcher';

// decide(now, waiting, topPriority, inFlight). Natural batching: with nothing in flight a batch
// leaves at once; while batches wait for an ack, items gather for at most windowMs.

describe('Batcher', () => {
  it('has the documented defaults', () => {
    expect(BATCHER_DEFAULTS).toEqual({ windowMs: 25, maxBatch: 64, urgentPriority: 5 });
    expect(new Batcher().options).toEqual(BATCHER_DEFAULTS);
    expect(new Batcher({ maxBatch: 8 }).options).toEqual({ windowMs: 25, maxBatch: 8, urgentPriority: 5 });
  });

  it('is idle when nothing waits', () => {
    const batcher = new Batcher();
    expect(batcher.decide(0, 0, undefined, 0)).toEqual({ kind: 'idle' });
    expect(batcher.decide(0, 0, undefined, 3)).toEqual({ kind: 'idle' });
  });

  it('with nothing in flight, sends at once: a lone item never waits for company', () => {
    const batcher = new Batcher({ windowMs: 25 });
    batcher.onQueued(1000, 0);
    expect(batcher.decide(1000, 1, 1, 0)).toEqual({ kind: 'send' });
    expect(batcher.decide(1000, 3, 1, 0)).toEqual({ kind: 'send' });
  });

  it('while batches are in flight, gathers for at most windowMs after the first waiting item (a cap)', () => {
    const batcher = new Batcher({ windowMs: 25 });
    batcher.onQueued(1000, 0);
    expect(batcher.windowOpenedAt).toBe(1000);
    expect(batcher.decide(1000, 1, 1, 1)).toEqual({ kind: 'wait', delayMs: 25 });
    batcher.onQueued(1010, 1); // a later item does not move the start
    expect(batcher.windowOpenedAt).toBe(1000);
    expect(batcher.decide(1010, 2, 1, 1)).toEqual({ kind: 'wait', delayMs: 15 });
    expect(batcher.decide(1024, 2, 1, 4)).toEqual({ kind: 'wait', delayMs: 1 });
    expect(batcher.decide(1025, 2, 1, 1)).toEqual({ kind: 'send' });
    expect(batcher.decide(1100, 2, 1, 1)).toEqual({ kind: 'send' });
    // The last ack came back: nothing in flight any more, what gathered leaves.
    expect(batcher.decide(1011, 2, 1, 0)).toEqual({ kind: 'send' });
  });

  it('sends at once when maxBatch items wait', () => {
    const batcher = new Batcher({ maxBatch: 64 });
    batcher.onQueued(0, 0);
    expect(batcher.decide(1, 63, 1, 1).kind).toBe('wait');
    expect(batcher.decide(1, 64, 1, 1)).toEqual({ kind: 'send' });
    expect(batcher.decide(1, 200, 1, 1)).toEqual({ kind: 'send' });
  });

  it('sends at once when the highest waiting item is urgent', () => {
    const batcher = new Batcher({ urgentPriority: 5 });
    batcher.onQueued(0, 0);
    expect(batcher.decide(0, 1, 4, 1).kind).toBe('wait');
    expect(batcher.decide(0, 1, 5, 1)).toEqual({ kind: 'send' });
    expect(batcher.decide(0, 1, 9, 1)).toEqual({ kind: 'send' });
  });

  it('forceDue (an ack came) sends immediately until the queue drains, then gathering resumes', () => {
    const batcher = new Batcher({ windowMs: 25 });
    batcher.onQueued(0, 0);
    batcher.forceDue();
    expect(batcher.decide(0, 3, 1, 2)).toEqual({ kind: 'send' });
    batcher.onDrained();
    expect(batcher.windowOpenedAt).toBeNull();
    batcher.onQueued(50, 0);
    expect(batcher.decide(50, 1, 1, 1)).toEqual({ kind: 'wait', delayMs: 25 });
  });

  it('a new item into an empty queue starts a fresh wait even without onDrained', () => {
    const batcher = new Batcher({ windowMs: 25 });
    batcher.onQueued(0, 0);
    batcher.forceDue();
    batcher.onQueued(100, 0);
    expect(batcher.windowOpenedAt).toBe(100);
    expect(batcher.decide(110, 1, 1, 1)).toEqual({ kind: 'wait', delayMs: 15 });
  });

  it('rejects invalid options', () => {
    expect(() => new Batcher({ maxBatch: 0 })).toThrow(RangeError);
    expect(() => new Batcher({ maxBatch: 2.5 })).toThrow(RangeError);
    expect(() => new Batcher({ windowMs: -1 })).toThrow(RangeError);
    expect(() => new Batcher({ urgentPriority: Number.NaN })).toThrow(RangeError);
  });
});
