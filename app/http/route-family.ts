import { RESERVED_TOPICS } from '../compat/topics';

// Which API a request was aimed at, decided from its raw path alone (so it works even when the
// path cannot be decoded): Beep's own routes answer errors in PROTOCOL.md's shape, the ntfy
// and Gotify routes in theirs (compat/compat-errors.ts).

/** The route families a listener serves; each has its own error shape. */
export type Family = 'beep' | 'ntfy' | 'gotify';

/** Gotify's REST and WebSocket paths (first segment), as compat/gotify routes them. */
const GOTIFY_ROOTS = new Set(['message', 'stream', 'application', 'client', 'current', 'version', 'plugin', 'user', 'image']);

/** What may follow a topic list in an ntfy path (/<topics>/<verb>). */
const NTFY_VERBS = new Set(['json', 'sse', 'raw', 'ws', 'publish', 'send', 'trigger', 'auth']);

/**
 * The family of a raw (percent-encoded) path. Gotify's fixed paths are Gotify's; `/<x>` and
 * `/<x>/<ntfy verb>` where `<x>` is not one of Beep's reserved names are ntfy's (a malformed
 * topic included); everything else (the API, the phone app, the dashboard, socket.io) is
 * Beep's, and so is `/` but for ntfy's JSON publishing (POST or PUT /). With compat off
 * there is only Beep.
 *
 *   familyOf('/%ZZ/ws', true)   → 'ntfy'
 *   familyOf('/message', true)  → 'gotify'
 *   familyOf('/api/v1/x', true) → 'beep'
 */
export function familyOf(pathname: string, compat: boolean, method = 'GET'): Family {
  if (!compat) return 'beep';
  // ntfy's JSON publishing: PUT/POST / (Beep has no write at the root).
  if (pathname === '/' && (method === 'POST' || method === 'PUT')) return 'ntfy';
  const segments = pathname.split('/').slice(1);
  const first = segments[0] ?? '';
  const lower = first.toLowerCase();
  if (GOTIFY_ROOTS.has(lower)) return 'gotify';
  if (first === '' || first.includes('.') || RESERVED_TOPICS.has(lower)) return 'beep';
  if (segments.length === 1) return 'ntfy';
  if (segments.length === 2 && NTFY_VERBS.has(segments[1])) return 'ntfy';
  return 'beep';
}
