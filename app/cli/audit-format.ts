import { clip, localTime } from './text';

// `beep audit list` for a person: one line per entry (seq, local time, event, actor, count),
// and its details as short key=value pairs on the next line instead of one long JSON blob.

export interface AuditEntryView {
  seq: number | null;
  at: string;
  event: string;
  actor: string;
  details: unknown;
  pending?: boolean;
}

/** characters of one detail value before it is cut. */
const MAX_VALUE = 48;
/** characters of the whole details line before it is cut. */
const MAX_DETAILS = 110;

function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.map(show).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The entry as two lines (the second only when it has details). */
export function formatAuditEntry(e: AuditEntryView, now = new Date()): string {
  const details = e.details && typeof e.details === 'object' ? { ...(e.details as Record<string, unknown>) } : {};
  const count = typeof details.count === 'number' && details.count > 1 ? `  ×${details.count}` : '';
  delete details.count;
  const seq = e.seq === null ? 'open' : String(e.seq);
  const head = `${seq.padStart(6)}  ${localTime(e.at, now).padEnd(15)} ${e.event.padEnd(24)} ${e.actor}${count}${e.pending ? '  (window still open)' : ''}`;
  const pairs = Object.entries(details).map(([k, v]) => `${k}=${clip(show(v), MAX_VALUE)}`);
  return pairs.length ? `${head}\n        ${clip(pairs.join(' '), MAX_DETAILS)}` : head;
}
