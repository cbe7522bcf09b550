import { BeepError } from '../../../app/domain/errors';
import { dueAt, parseFutureTime } from '../../../app/schedule/delay';

// ntfy's delay values (docs/publish.md, "Scheduled delivery"): Unix time, durations, times of day.

const NOW = new Date(2026, 10, 29, 14, 0, 0).getTime(); // 14:00 local time
const BOUNDS = { minSec: 10, maxSec: 3 * 86_400 };

describe('parseFutureTime', () => {
  it.each([
    ['30m', NOW + 30 * 60_000],
    ['1h30m', NOW + 90 * 60_000],
    ['90s', NOW + 90_000],
    ['1500ms', NOW + 1500],
    ['10 min', NOW + 10 * 60_000],
    ['2 days', NOW + 2 * 86_400_000],
    ['3 hours', NOW + 3 * 3_600_000],
    ['1day', NOW + 86_400_000],
    ['45 SECONDS', NOW + 45_000],
    ['tomorrow', NOW + 86_400_000],
    [String(NOW / 1000 + 600), NOW + 600_000],
  ])('%s', (text, expected) => {
    expect(parseFutureTime(text, NOW)).toBe(expected);
  });

  it('a time of day later today is today; one already past is tomorrow; "tomorrow" moves it a day', () => {
    const at = (d: number, h: number, m = 0) => new Date(2026, 10, d, h, m, 0).getTime();
    expect(parseFutureTime('3pm', NOW)).toBe(at(29, 15));
    expect(parseFutureTime('8:30pm', NOW)).toBe(at(29, 20, 30));
    expect(parseFutureTime('17:00', NOW)).toBe(at(29, 17));
    expect(parseFutureTime('10am', NOW)).toBe(at(30, 10));
    expect(parseFutureTime('12am', NOW)).toBe(at(30, 0));
    expect(parseFutureTime('tomorrow 3pm', NOW)).toBe(at(30, 15));
    expect(parseFutureTime('tomorrow, 10am', NOW)).toBe(at(30, 10));
  });

  it.each(['', 'soon', 'next tuesday', '25:00', '13pm', '10', '-5m', '5 fortnights', '1h 30m'])('refuses %j', (text) => {
    expect(parseFutureTime(text, NOW)).toBeUndefined();
  });
});

describe('dueAt: ntfy\'s bounds and codes', () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return [(e as BeepError).code, (e as BeepError).ntfyCode, (e as BeepError).message];
    }
    return null;
  };

  it('within the bounds: the instant', () => {
    expect(dueAt('10s', NOW, BOUNDS)).toBe(NOW + 10_000);
    expect(dueAt('3d', NOW, BOUNDS)).toBe(NOW + 3 * 86_400_000);
  });

  it('unparsable 40004, too small 40005, too large 40006', () => {
    expect(codeOf(() => dueAt('whenever', NOW, BOUNDS))).toEqual(['invalid_delay', 40004, 'invalid delay parameter: unable to parse delay']);
    expect(codeOf(() => dueAt('9s', NOW, BOUNDS))).toEqual(['invalid_delay', 40005, 'invalid delay parameter: too small, please refer to the docs']);
    expect(codeOf(() => dueAt('73h', NOW, BOUNDS))).toEqual(['invalid_delay', 40006, 'invalid delay parameter: too large, please refer to the docs']);
    expect(codeOf(() => dueAt(String(NOW / 1000 - 60), NOW, BOUNDS))?.[1]).toBe(40004);
  });

  it('the minimum is configurable (lower in tests)', () => {
    expect(dueAt('1s', NOW, { minSec: 1, maxSec: 60 })).toBe(NOW + 1000);
  });
});
