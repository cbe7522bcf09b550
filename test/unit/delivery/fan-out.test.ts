import { FanOut } from '../../../app/delivery/fan-out';

describe('FanOut', () => {
  function setup(slice: number, sessions: Set<string>) {
    const deferred: (() => void)[] = [];
    const errors: unknown[] = [];
    const fanOut = new FanOut(() => sessions.values(), slice, (fn) => deferred.push(fn), (e) => errors.push(e));
    return { fanOut, deferred, errors };
  }

  it('runs a slice per turn, tasks in order, each reaching every session before the next starts', () => {
    const sessions = new Set(['a', 'b', 'c']);
    const { fanOut, deferred } = setup(2, sessions);
    const seen: string[] = [];
    fanOut.run((s) => seen.push(`1${s}`));
    fanOut.run((s) => seen.push(`2${s}`));
    expect(seen).toEqual(['1a', '1b']);
    expect(fanOut.backlog).toBe(2);
    deferred.shift()!();
    expect(seen).toEqual(['1a', '1b', '1c', '2a']);
    deferred.shift()!();
    expect(seen).toEqual(['1a', '1b', '1c', '2a', '2b', '2c']);
    expect(deferred).toHaveLength(0);
    expect(fanOut.backlog).toBe(0);
  });

  it('visits sessions added meanwhile, skips those removed, reports a throwing step and goes on', () => {
    const sessions = new Set(['a', 'b', 'c']);
    const { fanOut, deferred, errors } = setup(1, sessions);
    const seen: string[] = [];
    fanOut.run((s) => {
      if (s === 'a') throw new Error('a failed');
      seen.push(s);
    });
    sessions.delete('c');
    sessions.add('d');
    while (deferred.length) deferred.shift()!();
    expect(seen).toEqual(['b', 'd']);
    expect(errors).toHaveLength(1);
  });

  it('clear drops what is queued', () => {
    const { fanOut, deferred } = setup(1, new Set(['a', 'b']));
    const seen: string[] = [];
    fanOut.run((s) => seen.push(s));
    fanOut.clear();
    while (deferred.length) deferred.shift()!();
    expect(seen).toEqual(['a']);
  });
});
