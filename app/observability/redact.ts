// The one place secrets are removed from log lines: by key (at any depth) and by shape inside
// any string, so no call site has to remember.

const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear (ntfy action buttons too: an http action's headers often hold a credential). */
const SECRET_KEYS =
  /^(authorization|cookie|set-cookie|token|accesstoken|refreshtoken|admintoken|password|secret|key|privatekey|nonce|csrf|csrftoken|session|sessionid|pairingcode|actions|xactions)$/i;
/** Header names whose values are never secrets. */
const HARMLESS_HEADERS = new Set(['content-type', 'content-length', 'accept', 'user-agent', 'host', 'origin', 'referer']);
/** `code` is an error code in most lines; a pairing code is 8 digits. */
const PAIRING_CODE = /^\d{8}$/;

/** Secret shapes inside free text: bearer tokens, JWTs, secrets in URLs and cookies, long opaque tokens. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/(Bearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`],
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, REDACTED],
  [/([?&#](?:code|nonce|token|access_token|refresh_token|sig)=)[^&\s"']+/gi, `$1${REDACTED}`],
  [/(beep_session=)[^;\s"']+/gi, `$1${REDACTED}`],
  // 32+ url-safe characters that are neither hex (fingerprints, ids) nor a UUID: opaque tokens.
  [/(?<![A-Za-z0-9_-])(?![0-9a-f]{32,}(?![A-Za-z0-9_-]))(?![0-9a-f]{8}-[0-9a-f]{4}-)[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])/g, REDACTED],
];

/** Masks secret shapes in a string. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A copy of `value` with secret keys and secret-looking strings masked (cycles cut). */
export function redactValue(value: unknown, key = '', seen = new WeakSet<object>()): unknown {
  if (key && SECRET_KEYS.test(key.replace(/[_-]/g, '')) && value !== undefined && value !== null) return REDACTED;
  if (key === 'code' && typeof value === 'string' && PAIRING_CODE.test(value)) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return redactText(value.stack ?? value.message);
  if (!value || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, '', seen));
  // Any header may carry a credential (X-Api-Key, X-Auth-Token, ...): names kept, values masked.
  if (key.toLowerCase() === 'headers') return Object.fromEntries(Object.keys(value).map((k) => [k, HARMLESS_HEADERS.has(k.toLowerCase()) ? redactValue((value as Record<string, unknown>)[k], k, seen) : REDACTED]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, k, seen);
  return out;
}
