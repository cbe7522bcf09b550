import { BeepError } from '../domain/errors';

// ntfy's scheduled-delivery values (docs/publish.md, "Scheduled delivery"; Delay/X-Delay, At,
// In, the query parameters and JSON `delay` all take the same text): a Unix timestamp in
// seconds, a duration (Go's `30m`, `1h30m`, `90s`, or `10 min`, `2 days`, `3 hours`), or a time
// of day (`10am`, `8:30pm`, `17:00`, each optionally after `tomorrow`; one already past today
// means tomorrow) in the daemon's time zone. ntfy also reads freer English ("next Tuesday at
// noon"); Beep refuses those as ntfy refuses what it cannot parse (40004). Too soon (below the
// configured minimum) is 40005, too far (past the maximum) 40006, as in ntfy.

/** The bounds of a delay, in seconds from now. */
export interface DelayBounds {
  minSec: number;
  maxSec: number;
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*$/;
const WORD_DURATION = /^(\d+)\s*(d|days?|h|hours?|m|mins?|minutes?|s|secs?|seconds?)$/i;
const WORD_UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
const TIME_OF_DAY = /^(tomorrow(?:,|\s+at)?\s*)?(?:(\d{1,2})(?::(\d{2}))?\s*(am|pm)|(\d{1,2}):(\d{2}))$/i;

/** Go's time.ParseDuration for the units ntfy accepts, in ms; undefined when it is not one. */
function goDuration(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(value) * GO_UNITS[unit];
  return ms;
}

/** A time of day (optionally "tomorrow ..."), its next occurrence after `nowMs` in local time. */
function timeOfDay(text: string, nowMs: number): number | undefined {
  const m = TIME_OF_DAY.exec(text);
  if (!m) return undefined;
  const [, tomorrow, h12, min12, half, h24, min24] = m;
  let hour = Number(h12 ?? h24);
  const minute = Number(min12 ?? min24 ?? 0);
  if (half) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half.toLowerCase() === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return undefined;
  const at = new Date(nowMs);
  at.setHours(hour, minute, 0, 0);
  if (tomorrow || at.getTime() <= nowMs) at.setDate(at.getDate() + 1);
  return at.getTime();
}

/** The instant (ms since epoch) a delay value names, or undefined when it names none. */
export function parseFutureTime(raw: string, nowMs: number): number | undefined {
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const sec = Number(text);
    if (sec * 1000 >= nowMs - 1000) return sec * 1000;
  }
  const go = goDuration(text);
  if (go !== undefined) return nowMs + go;
  const words = WORD_DURATION.exec(text);
  if (words) return nowMs + Number(words[1]) * WORD_UNITS[words[2][0].toLowerCase()];
  if (/^tomorrow$/i.test(text)) return nowMs + 86_400_000;
  return timeOfDay(text, nowMs);
}

/**
 * When a delay value says to deliver, checked against the bounds as ntfy checks them (whole
 * seconds); throws ntfy's refusal otherwise.
 *
 *   dueAt('30m', Date.now(), { minSec: 10, maxSec: 259_200 }) // now + 30 minutes
 */
export function dueAt(raw: string, nowMs: number, bounds: DelayBounds): number {
  const due = parseFutureTime(raw, nowMs);
  if (due === undefined || !Number.isFinite(due)) {
    throw new BeepError('invalid_delay', 'invalid delay parameter: unable to parse delay', { ntfyCode: 40004 });
  }
  const dueSec = Math.floor(due / 1000);
  if (dueSec < Math.floor(nowMs / 1000 + bounds.minSec)) {
    throw new BeepError('invalid_delay', 'invalid delay parameter: too small, please refer to the docs', { ntfyCode: 40005 });
  }
  if (dueSec > Math.floor(nowMs / 1000 + bounds.maxSec)) {
    throw new BeepError('invalid_delay', 'invalid delay parameter: too large, please refer to the docs', { ntfyCode: 40006 });
  }
  return due;
}
