import type { Priority } from '../../domain/priority';

// The rules a user sets (config file `rules`, or PUT /api/v1/rules), as the engine reads them.
// config/schema.ts validates the same shape; this is the engine's own view of it.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A weekly window, in the user's time zone: `start` on each of `days` until the next `end`. */
export interface QuietWindow {
  days: Weekday[];
  /** "HH:MM"; a window whose end is not after its start runs past midnight (equal = 24 h). */
  start: string;
  end: string;
}

export interface KeywordRule {
  /** A regular expression (JavaScript syntax) matched against title and body. */
  pattern: string;
  flags: string;
  action: 'mute' | 'redact';
  /** Globs on app name or desktop entry this rule is limited to; empty = every app. */
  apps: string[];
  /** What a redacted match becomes. */
  replacement: string;
}

export interface Rules {
  apps: { allow: string[]; deny: string[] };
  minPriority: Priority;
  quietHours: { timeZone: string | null; allowUrgent: boolean; windows: QuietWindow[] };
  keywords: KeywordRule[];
  /** The same app, title and body again within this many seconds is dropped; 0 = off. */
  duplicates: { windowSec: number };
  /** More than `threshold` from one app within `windowSec` fold into one summary; 0 = off. */
  burst: { threshold: number; windowSec: number };
}

/** Why a notification was muted: a bounded set, used as a metric label. */
export type MuteKind = 'app' | 'priority' | 'keyword' | 'quiet_hours' | 'duplicate' | 'burst';
export const MUTE_KINDS: readonly MuteKind[] = ['app', 'priority', 'keyword', 'quiet_hours', 'duplicate', 'burst'];

/** Rules that let everything through: the default. */
export function openRules(): Rules {
  return {
    apps: { allow: [], deny: [] },
    minPriority: 1,
    quietHours: { timeZone: null, allowUrgent: true, windows: [] },
    keywords: [],
    duplicates: { windowSec: 0 },
    burst: { threshold: 0, windowSec: 10 },
  };
}

/** Case-insensitive shell glob (`*`, `?`) as a RegExp anchored at both ends. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}
