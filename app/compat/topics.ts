import { BeepError } from '../domain/errors';

// Topic names shared by ntfy, Gotify, tokens and device filters, and the names Beep keeps for
// its own routes (a topic must never shadow them).

export const TOPIC_PATTERN = /^[-_A-Za-z0-9]{1,64}$/;

/**
 * Refused as topics: Beep's paths (/api/v1/…, /health, /metrics, /ca.crt, the phone app's
 * files and folders (/icons/…, /js/…), the dashboard (/dashboard/…), socket.io), Gotify's paths
 * (/message, /stream, /version, /application, /client, /current, /plugin, /user, /image) and
 * the ones ntfy keeps for itself (/docs, /static, /file, /v1). Names with a dot (ca.crt,
 * index.html, socket.io) never match TOPIC_PATTERN anyway.
 */
export const RESERVED_TOPICS: ReadonlySet<string> = new Set([
  'api', 'health', 'metrics', 'message', 'stream', 'version', 'application', 'client', 'current',
  'plugin', 'user', 'image', 'docs', 'static', 'file', 'v1', 'json', 'sse', 'raw', 'ws', 'publish',
  'send', 'trigger', 'auth',
  // Beep's gateway and admin listeners: the phone app's folders and pages, the dashboard.
  'icons', 'js', 'css', 'dashboard', 'index', 'trust', 'manifest', 'sw', 'ca', 'socket', 'unpair', 'pair', 'token', 'app', 'favicon',
]);

/** True when the name could be a topic at all and is not reserved (routes call next() otherwise). */
export function isTopicName(name: string): boolean {
  return TOPIC_PATTERN.test(name) && !RESERVED_TOPICS.has(name.toLowerCase());
}

/** Parses "a,b" (or an array) into distinct topic names; throws invalid_topic / reserved_topic. */
export function parseTopicList(raw: string | readonly string[]): string[] {
  const names = (typeof raw === 'string' ? raw.split(',') : raw).map((t) => t.trim()).filter((t) => t.length > 0);
  if (names.length === 0) throw new BeepError('invalid_topic', 'At least one topic is required.');
  for (const name of names) {
    if (!TOPIC_PATTERN.test(name)) throw new BeepError('invalid_topic', `"${name.slice(0, 70)}" is not a topic name: use [-_A-Za-z0-9]{1,64}.`);
    if (RESERVED_TOPICS.has(name.toLowerCase())) throw new BeepError('reserved_topic', `"${name}" is reserved for Beep's own routes.`);
  }
  return [...new Set(names)];
}
