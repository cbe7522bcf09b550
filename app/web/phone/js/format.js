// Small pure helpers for what the user reads: relative times, priority names, device names.

/** Priority 1–5 on the wire → what the list shows (never by colour alone: icon and words too). */
export const PRIORITIES = {
  1: { level: 1, name: 'min', short: 'Min', label: 'Min priority' },
  2: { level: 2, name: 'low', short: 'Low', label: 'Low priority' },
  3: { level: 3, name: 'default', short: '', label: 'Normal priority' },
  4: { level: 4, name: 'high', short: 'High', label: 'High priority' },
  5: { level: 5, name: 'urgent', short: 'Urgent', label: 'Urgent' },
};

/** The display facts of a notification's priority (unknown values shown as normal). */
export function priorityOf(n) {
  return PRIORITIES[n.priority] ?? PRIORITIES[3];
}

/** "just now", "2 min ago", "3 h ago", "yesterday", "4 days ago", then the date. */
export function relativeTime(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 2) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(then).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: days > 300 ? 'numeric' : undefined });
}

/** A name the user will recognise in `beep devices`, guessed from the browser. */
export function guessDevice(ua = navigator.userAgent) {
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone/.test(ua)
      ? 'iPhone'
      : /iPad/.test(ua)
        ? 'iPad'
        : /Macintosh/.test(ua)
          ? 'Mac'
          : /Windows/.test(ua)
            ? 'Windows'
            : /Linux|X11/.test(ua)
              ? 'Linux'
              : 'device';
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const platform = os === 'Android' ? 'web-android' : os === 'iPhone' || os === 'iPad' ? 'web-ios' : 'web-desktop';
  return { name: `${browser} on ${os}`, platform };
}

/** "12345678" → "1234 5678", easier to compare with the PC's screen. */
export function spacedCode(code) {
  return code.replace(/^(\d{4})(\d{4})$/, '$1 $2');
}
