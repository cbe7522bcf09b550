// Small wording helpers the CLI's human output shares.

/** "1 notification", "2 notifications"; `many` for irregular plurals ("entry" → "entries"). */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "sha256/ab12…" → "AB12 CD34 …": groups of four, as the phone's trust page shows it. */
export function groupedFingerprint(fingerprint: string): string {
  return fingerprint.replace(/^sha256\//i, '').toUpperCase().match(/.{1,4}/g)?.join(' ') ?? '';
}

/** "14:03:22" today, "Nov 27 14:03" on another day, in this machine's time zone. */
export function localTime(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const sameDay = at.toDateString() === now.toDateString();
  if (sameDay) return at.toLocaleTimeString(undefined, { hour12: false });
  const day = at.toLocaleDateString(undefined, { month: 'short', day: 'numeric', ...(at.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}) });
  return `${day} ${at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })}`;
}

/** `value` cut to `max` characters with an ellipsis, for one-line summaries. */
export function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
