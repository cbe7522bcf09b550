import fc from 'fast-check';
import { inQuietHours, WallClock } from '../../../../app/ingest/rules/quiet-hours';
import { WEEKDAYS, type QuietWindow } from '../../../../app/ingest/rules/rules';

// Quiet hours are wall-clock windows in one time zone: across midnight, across DST changes.

const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'America/St_Johns'];
const clockArb = fc.integer({ min: 0, max: 24 * 60 - 1 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
const instantArb = fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2030-12-31T00:00:00Z') });
const daysArb = fc.subarray([...WEEKDAYS], { minLength: 1 });
const ALL = [...WEEKDAYS];

/** An independent reading of the wall clock (the en-GB string, parsed). */
function reference(zone: string, instant: number): { day: number; minutes: number } {
  const text = new Date(instant).toLocaleString('en-GB', { timeZone: zone, weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const [weekday, time] = text.split(' ');
  const day = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].indexOf(weekday);
  const [h, m] = time.split(':').map(Number);
  return { day, minutes: h * 60 + m };
}

describe('quiet hours', () => {
  test('the wall clock agrees with an independent reading in every zone', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instantArb, (zone, instant) => {
        expect(new WallClock(zone).at(instant)).toEqual(reference(zone, instant));
      }),
    );
  });

  test('a window and its complement cover every instant exactly once (across midnight too)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), clockArb, clockArb, instantArb, (zone, start, end, instant) => {
        fc.pre(start !== end);
        const time = new WallClock(zone).at(instant);
        const a = inQuietHours([{ days: ALL, start, end }], time);
        const b = inQuietHours([{ days: ALL, start: end, end: start }], time);
        expect(a !== b).toBe(true);
      }),
    );
  });

  test('a window belongs to the day it starts: its after-midnight part is quiet only after a chosen day', () => {
    fc.assert(
      fc.property(daysArb, clockArb, clockArb, fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 1439 }), (days, start, end, day, minutes) => {
        const w: QuietWindow = { days, start, end };
        const [s, e] = [start, end].map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)));
        const quiet = inQuietHours([w], { day, minutes });
        const today = days.includes(WEEKDAYS[day]);
        const yesterday = days.includes(WEEKDAYS[(day + 6) % 7]);
        const expected = s < e ? today && minutes >= s && minutes < e : (today && minutes >= s) || (yesterday && minutes < e);
        expect(quiet).toBe(expected);
      }),
    );
  });

  test('in UTC the schedule repeats every week', () => {
    fc.assert(
      fc.property(daysArb, clockArb, clockArb, instantArb, (days, start, end, instant) => {
        const clock = new WallClock('UTC');
        const w = [{ days, start, end }];
        expect(inQuietHours(w, clock.at(instant + 7 * 86_400_000))).toBe(inQuietHours(w, clock.at(instant)));
      }),
    );
  });

  test('DST: 22:00–07:00 ends at 07:00 local time on both sides of a change', () => {
    const paris = new WallClock('Europe/Paris');
    const night = [{ days: ALL, start: '22:00', end: '07:00' }];
    // 2026-03-29: clocks go 02:00 → 03:00 (UTC+1 → UTC+2). 06:59 local = 04:59Z, 07:00 local = 05:00Z.
    expect(inQuietHours(night, paris.at(Date.parse('2026-03-29T04:59:00Z')))).toBe(true);
    expect(inQuietHours(night, paris.at(Date.parse('2026-03-29T05:00:00Z')))).toBe(false);
    expect(inQuietHours(night, paris.at(Date.parse('2026-03-29T00:30:00Z')))).toBe(true); // 01:30 → 03:30 jump inside
    // 2026-10-25: clocks go 03:00 → 02:00 (UTC+2 → UTC+1). 07:00 local = 06:00Z.
    expect(inQuietHours(night, paris.at(Date.parse('2026-10-25T05:59:00Z')))).toBe(true);
    expect(inQuietHours(night, paris.at(Date.parse('2026-10-25T06:00:00Z')))).toBe(false);
    // The same instants in New York (no change that day) are evening, not night.
    expect(inQuietHours(night, new WallClock('America/New_York').at(Date.parse('2026-03-29T05:00:00Z')))).toBe(true);
  });

  test('equal start and end is a whole day from that time', () => {
    const w = [{ days: ['mon' as const], start: '09:00', end: '09:00' }];
    expect(inQuietHours(w, { day: 0, minutes: 9 * 60 })).toBe(true);
    expect(inQuietHours(w, { day: 1, minutes: 8 * 60 + 59 })).toBe(true);
    expect(inQuietHours(w, { day: 1, minutes: 9 * 60 })).toBe(false);
    expect(inQuietHours(w, { day: 0, minutes: 8 * 60 + 59 })).toBe(false);
  });
});

describe('the wall clock at rest', () => {
  // An Intl formatter maps ICU's zone data (~8 MB resident): a daemon whose rules have no quiet
  // hours builds a WallClock at start and must never build the formatter.
  test('builds its formatter on the first reading, and only once', () => {
    const built = jest.spyOn(Intl, 'DateTimeFormat');
    try {
      const clock = new WallClock('Europe/Paris');
      expect(built).not.toHaveBeenCalled();
      const instant = Date.parse('2026-03-29T01:30:00Z');
      expect(clock.at(instant)).toEqual(reference('Europe/Paris', instant));
      clock.at(instant + 60_000);
      expect(built).toHaveBeenCalledTimes(1);
    } finally {
      built.mockRestore();
    }
  });
});
