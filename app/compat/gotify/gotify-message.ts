import type { StoredNotification } from '../../domain/notification';
import type { Priority } from '../../domain/priority';

// Gotify's message model (docs/spec.json, "Message") and the priority mapping.
//
// Gotify priorities are 0-10; Beep has five. Gotify → Beep: 0 → 1 (min), 1-3 → 2 (low),
// 4-7 → 3 (default), 8-9 → 4 (high), 10 → 5 (urgent). Beep → Gotify: 1 → 0, 2 → 2, 3 → 5,
// 4 → 8, 5 → 10. So 0, 2, 5, 8 and 10 survive Gotify → Beep → Gotify unchanged, every Beep
// priority survives Beep → Gotify → Beep, and the bands follow the Gotify app's own (0 no
// notification, 1-3 silent, 4-7 sound, 8-10 pop-up). Below 0 is min, above 10 urgent. A
// message published through Gotify keeps the priority it was given (`givenPriority`) and shows
// it on Gotify's routes; the mapping back is for everything else (ntfy, Beep, desktop).

const TO_GOTIFY = [0, 2, 5, 8, 10] as const;

export function fromGotifyPriority(p: number): Priority {
  if (p <= 0) return 1;
  if (p <= 3) return 2;
  if (p <= 7) return 3;
  if (p <= 9) return 4;
  return 5;
}

export function toGotifyPriority(p: Priority): number {
  return TO_GOTIFY[p - 1];
}

export interface GotifyMessage {
  id: number;
  appid: number;
  message: string;
  title: string;
  priority: number;
  date: string;
  extras?: Record<string, unknown>;
}

/**
 * A stored notification as Gotify's MessageExternal: the outbox seq is the integer id, the
 * priority the one given through Gotify (else Beep's mapped back), the
 * publishing API token's id the appid (0 for notifications from other sources), the click
 * URL and Markdown go in the `client::notification` / `client::display` extras.
 */
export function toGotifyMessage(n: StoredNotification): GotifyMessage {
  const extras: Record<string, unknown> = {};
  if (n.url) extras['client::notification'] = { click: { url: n.url } };
  if (n.markdown) extras['client::display'] = { contentType: 'text/markdown' };
  return {
    id: n.seq,
    appid: n.tokenId ?? 0,
    message: n.body,
    title: n.title,
    priority: n.givenPriority ?? toGotifyPriority(n.priority),
    date: n.createdAt,
    ...(Object.keys(extras).length ? { extras } : {}),
  };
}
