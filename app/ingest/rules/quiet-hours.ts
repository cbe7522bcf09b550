import { WEEKDAYS, type QuietWindow } from './rules';

// Quiet hours: weekly windows of wall-clock time in one time zone. Wall-clock arithmetic makes
// DST transparent (a 22:00–07:00 night is 8 or 10 hours long on the nights the clocks change).

/** A moment as the user's wall clock shows it. */
export interface WallTime {
  /** 0 = Monday … 6 = Sunday. */
  day: number;
  /** Minutes since local midnight. */
  minutes: number;
}

/** "HH:MM" → minutes since midnight. */
export function parseClock(text: string): number {
  const [h, m] = text.split(':').map(Number);
  return h * 60 + m;
}

const SHORT_DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/**
 * Converts instants to wall time in one zone (a null zone is the system's).
 *
 *   new WallClock('Europe/Paris').at(Date.parse('2026-03-29T01:30:00Z'))  // { day: 6, minutes: 210 }
 */
export class WallClock {
  // Built on the first reading: an Intl formatter maps ICU's zone and calendar data (~8 MB of
  // RSS), which a daemon without quiet-hours windows never needs.
  private format?: Intl.DateTimeFormat;

  constructor(private readonly timeZone: string | null) {}

  private formatter(): Intl.DateTimeFormat {
    this.format ??= new Intl.DateTimeFormat('en-US', {
      timeZone: this.timeZone ?? undefined,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    return this.format;
  }

  at(instantMs: number): WallTime {
    let day = 0;
    let hour = 0;
    let minute = 0;
    for (const part of this.formatter().formatToParts(instantMs)) {
      if (part.type === 'weekday') day = SHORT_DAYS.indexOf(part.value);
      else if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
    }
    return { day, minutes: hour * 60 + minute };
  }
}

/** True when the wall time falls in one of the windows (each begins on one of its days). */
export function inQuietHours(windows: readonly QuietWindow[], time: WallTime): boolean {
  const previous = (time.day + 6) % 7;
  return windows.some((w) => {
    const start = parseClock(w.start);
    const end = parseClock(w.end);
    const startsToday = w.days.includes(WEEKDAYS[time.day]);
    if (start < end) return startsToday && time.minutes >= start && time.minutes < end;
    // Runs past midnight: the evening part today, or the morning part of yesterday's window.
    const startedYesterday = w.days.includes(WEEKDAYS[previous]);
    return (startsToday && time.minutes >= start) || (startedYesterday && time.minutes < end);
  });
}
