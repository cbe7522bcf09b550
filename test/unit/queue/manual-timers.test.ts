import { ManualTimers } from './manual-timers';

// The queue tests lean on this fake, so its ordering guarantees are pinned here.
describe('ManualTimers', () => {
  it('runs callbacks only when advanced past their due time, with now() at the due time', () => {
    const timers = new ManualTimers(100);
    const seen: number[] = [];
    timers.setTimeout(() => seen.push(timers.now()), 10);
    timers.advance(9);
    expect(seen).toEqual([]);
    expect(timers.now()).toBe(109);
    timers.advance(5);
    expect(seen).toEqual([110]);
    expect(timers.now()).toBe(114);
  });

  it('runs due callbacks in time order, ties in scheduling order', () => {
    const timers = new ManualTimers();
    const seen: string[] = [];
    timers.setTimeout(() => seen.push('c'), 30);
    timers.setTimeout(() => seen.push('a1'), 10);
    timers.setTimeout(() => seen.push('a2'), 10);
    timers.setTimeout(() => seen.push('b'), 20);
    timers.advance(100);
    expect(seen).toEqual(['a1', 'a2', 'b', 'c']);
  });

  it('runs callbacks scheduled during advance if they fall due before its end', () => {
    const timers = new ManualTimers();
    const seen: number[] = [];
    timers.setTimeout(() => {
      seen.push(timers.now());
      timers.setTimeout(() => seen.push(timers.now()), 5);
      timers.setTimeout(() => seen.push(timers.now()), 50);
    }, 10);
    timers.advance(20);
    expect(seen).toEqual([10, 15]);
    expect(timers.pendingCount).toBe(1);
    expect(timers.nextDue()).toBe(60);
  });

  it('clearTimeout cancels, and runAll drains what is left', () => {
    const timers = new ManualTimers();
    const seen: string[] = [];
    const handle = timers.setTimeout(() => seen.push('cancelled'), 5);
    timers.setTimeout(() => seen.push('kept'), 7);
    timers.clearTimeout(handle);
    timers.clearTimeout('not-a-handle');
    timers.runAll();
    expect(seen).toEqual(['kept']);
    expect(timers.now()).toBe(7);
    expect(timers.pendingCount).toBe(0);
  });

  it('fails loudly on a runaway zero-delay timer loop instead of hanging', () => {
    const timers = new ManualTimers();
    const again = (): void => {
      timers.setTimeout(again, 0);
    };
    timers.setTimeout(again, 0);
    expect(() => timers.advance(1, 1000)).toThrow(/more than 1000 timer callbacks/);
  });
});
