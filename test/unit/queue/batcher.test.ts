import { BATCHER_DEFAULTS, Batcher } from '../../../app/queue/batcher';

describe('Batcher', () => {
  it('has the documented defaults', () => {
    expect(BATCHER_DEFAULTS).toEqual({ windowMs: 25, maxBatch: 64, urgentPriority: 5 });
    expect(new Batcher().options).toEqual(BATCHER_DEFAULTS);
    expect(new Batcher({ maxBatch: 8 }).options).toEqual({ windowMs: 25, maxBatch: 8, urgentPriority: 5 });
  });

  it('is idle when nothing waits', () => {
    const batcher = new Batcher();
    expect(batcher.decide(0, 0, undefined)).toEqual({ kind: 'idle' });
  });

  it('opens the window on the first item into an empty queue and sends when it ends', () => {
    const batcher = new Batcher({ windowMs: 25 });
    batcher.onQueued(1000, 0);
    expect(batcher.windowOpenedAt).toBe(1000);
    expect(batcher.decide(1000, 1, 1)).toEqual({ kind: 'wait', delayMs: 25 });
    batcher.onQueued(1010, 1); // a later item does not move the window
    expect(batcher.windowOpenedAt).toBe(1000);
    expect(batcher.decide(1010, 2, 1)).toEqual({ kind: 'wait', delayMs: 15 });
    expect(batcher.decide(1024, 2, 1)).toEqual({ kind: 'wait', delayMs: 1 });
    expect(batcher.decide(1025, 2, 1)).toEqual({ kind: 'send' });
    expect(batcher.decide(1100, 2, 1)).toEqual({ kind: 'send' });
  });

  it('sends at once when maxBatch items wait', () => {
    const batcher = new Batcher({ maxBatch: 64 });
    batcher.onQueued(0, 0);
    expect(batcher.decide(1, 63, 1).kind).toBe('wait');
    expect(batcher.decide(1, 64, 1)).toEqual({ kind: 'send' });
    expect(batcher.decide(1, 200, 1)).toEqual({ kind: 'send' });
  });

  it('sends at once when the highest waiting item is urgent', () => {
    const batcher = new Batcher({ urgentPriority: 5 });
    batcher.onQueued(0, 0);
    expect(batcher.decide(0, 1, 4).kind).toBe('wait');
    expect(batcher.decide(0, 1, 5)).toEqual({ kind: 'send' });
    expect(batcher.decide(0, 1, 9)).toEqual({ kind: 'send' });
  });

  it('forceDue sends immediately until the queue drains, then windows resume', () => {
    const batcher = new Batcher({ windowMs: 25 });
    batcher.onQueued(0, 0);
    batcher.forceDue();
    expect(batcher.decide(0, 3, 1)).toEqual({ kind: 'send' });
    batcher.onDrained();
    expect(batcher.windowOpenedAt).toBeNull();
    batcher.onQueued(50, 0);
    expect(batcher.decide(50, 1, 1)).toEqual({ kind: 'wait', delayMs: 25 });
  });

  it('a new item into an empty queue opens a fresh window even without onDrained', () => {
    const batcher = new Batcher({ windowMs: 25 });
    batcher.onQueued(0, 0);
    batcher.forceDue();
    batcher.onQueued(100, 0);
    expect(batcher.windowOpenedAt).toBe(100);
    expect(batcher.decide(110, 1, 1)).toEqual({ kind: 'wait', delayMs: 15 });
  });

  it('rejects invalid options', () => {
    expect(() => new Batcher({ maxBatch: 0 })).toThrow(RangeError);
    expect(() => new Batcher({ maxBatch: 2.5 })).toThrow(RangeError);
    expect(() => new Batcher({ windowMs: -1 })).toThrow(RangeError);
    expect(() => new Batcher({ urgentPriority: Number.NaN })).toThrow(RangeError);
  });
});
