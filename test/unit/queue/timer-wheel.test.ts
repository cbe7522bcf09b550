import { TimerWheel } from '../../../app/queue/timer-wheel';
import { ManualTimers } from './manual-timers';

// Many delivery timers on one real timer: each runs at the first tick at or after its due
// time, never early; clearing one touches no real timer.

function setup(tickMs = 5) {
  const base = new ManualTimers();
  return { base, wheel: new TimerWheel(base, tickMs) };
}

describe('TimerWheel', () => {
  it('runs each callback at the first tick at or after its due time, never before', () => {
    const { base, wheel } = setup(5);
    const seen: [string, number][] = [];
    wheel.setTimeout(() => seen.push(['a', base.now()]), 10);
    wheel.setTimeout(() => seen.push(['b', base.now()]), 12);
    wheel.setTimeout(() => seen.push(['c', base.now()]), 3);
    base.advance(4);
    expect(seen).toEqual([]);
    base.advance(1);
    expect(seen).toEqual([['c', 5]]);
    base.advance(5);
    expect(seen).toEqual([['c', 5], ['a', 10]]);
    base.advance(4);
    expect(seen).toEqual([['c', 5], ['a', 10]]);
    base.advance(1);
    expect(seen).toEqual([['c', 5], ['a', 10], ['b', 15]]);
  });

  it('holds one real timer however many callbacks wait, and none once they are done', () => {
    const { base, wheel } = setup(5);
    const handles = Array.from({ length: 1000 }, (_, i) => wheel.setTimeout(() => undefined, 10_000 + i));
    expect(base.pendingCount).toBe(1);
    expect(wheel.size).toBe(1000);
    for (const h of handles.slice(0, 999)) wheel.clearTimeout(h);
    expect(base.pendingCount).toBe(1);
    expect(wheel.size).toBe(1);
    base.advance(20_000);
    expect(wheel.size).toBe(0);
    expect(base.pendingCount).toBe(0);
  });

  it('a cleared callback never runs; clearing twice or an unknown handle is harmless', () => {
    const { base, wheel } = setup();
    const seen: string[] = [];
    const a = wheel.setTimeout(() => seen.push('a'), 10);
    wheel.setTimeout(() => seen.push('b'), 10);
    wheel.clearTimeout(a);
    wheel.clearTimeout(a);
    wheel.clearTimeout(undefined);
    wheel.clearTimeout({ slot: 99 });
    base.advance(100);
    expect(seen).toEqual(['b']);
  });

  it('an earlier callback re-arms the real timer earlier', () => {
    const { base, wheel } = setup();
    const seen: string[] = [];
    wheel.setTimeout(() => seen.push('late'), 1000);
    wheel.setTimeout(() => seen.push('soon'), 10);
    base.advance(10);
    expect(seen).toEqual(['soon']);
    expect(base.pendingCount).toBe(1);
    base.advance(990);
    expect(seen).toEqual(['soon', 'late']);
  });

  it('what a callback schedules for now runs on a later tick, not in the same turn', () => {
    const { base, wheel } = setup(5);
    const seen: number[] = [];
    const again = () => {
      seen.push(base.now());
      if (seen.length < 3) wheel.setTimeout(again, 0);
    };
    wheel.setTimeout(again, 5);
    base.advance(5);
    expect(seen).toEqual([5]);
    base.advance(10);
    expect(seen).toEqual([5, 10, 15]);
  });

  it('a throwing callback surfaces after the others of its tick have run, and the wheel keeps going', () => {
    const { base, wheel } = setup();
    const seen: string[] = [];
    wheel.setTimeout(() => {
      throw new Error('boom');
    }, 5);
    wheel.setTimeout(() => seen.push('same tick'), 5);
    wheel.setTimeout(() => seen.push('later'), 50);
    expect(() => base.advance(5)).toThrow('boom');
    expect(seen).toEqual(['same tick']);
    base.advance(45);
    expect(seen).toEqual(['same tick', 'later']);
  });
});
