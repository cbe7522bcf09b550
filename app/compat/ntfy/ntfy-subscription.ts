import { BeepError } from '../../domain/errors';
import type { StoredNotification } from '../../domain/notification';
import { parsePriority } from '../../domain/priority';
import { isTrue, type NtfyParams, SUBSCRIBE } from './ntfy-params';

// What an ntfy subscriber asked for (docs/subscribe/api.md, "Advanced features"): poll=1,
// since= (a duration, a Unix time, a message id, `all`, `latest`; `none` is the default of a
// live stream, `all` of a poll) and the filters id, message, title, priority (any of) and
// tags (all of). Pure: the clock is passed in.

export type Since =
  | { kind: 'none' }
  | { kind: 'all' }
  | { kind: 'latest' }
  | { kind: 'time'; ms: number }
  | { kind: 'id'; id: string };

export interface Subscription {
  poll: boolean;
  since: Since;
  matches(n: StoredNotification): boolean;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses since=. Order matters: a word, then digits (Unix seconds), then a duration ("30s",
 * "10m", "2h", "1d"), else a message id. An id that looks like a number or a duration cannot
 * be named in since= (say so in the docs).
 */
export function parseSince(raw: string | undefined, poll: boolean, nowMs: number): Since {
  const value = raw?.trim();
  if (value === undefined || value === '') return poll ? { kind: 'all' } : { kind: 'none' };
  const word = value.toLowerCase();
  if (word === 'all' || word === 'latest' || word === 'none') return { kind: word };
  if (/^\d{1,12}$/.test(value)) return { kind: 'time', ms: Number(value) * 1000 };
  const duration = /^(\d{1,9})(s|m|h|d)$/.exec(value);
  if (duration) return { kind: 'time', ms: nowMs - Number(duration[1]) * UNIT_SECONDS[duration[2]] * 1000 };
  if (/^[A-Za-z0-9_-]{1,64}$/.test(value)) return { kind: 'id', id: value };
  throw new BeepError('invalid_query', 'since must be a duration (10m), a Unix time, a message id, all or latest.');
}

function priorities(raw: string): Set<number> {
  const set = new Set<number>();
  for (const part of raw.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean)) {
    const p = part === 'max' ? 5 : parsePriority(part);
    if (p === undefined) throw new BeepError('invalid_priority', `"${part}" is not an ntfy priority.`);
    set.add(p);
  }
  return set;
}

/** Reads poll, since and the filters from a subscribe request. */
export function parseSubscription(params: NtfyParams, nowMs: number): Subscription {
  const poll = isTrue(params.get(SUBSCRIBE.poll));
  const since = parseSince(params.get(SUBSCRIBE.since), poll, nowMs);
  const id = params.get(SUBSCRIBE.id);
  const message = params.get(SUBSCRIBE.message);
  const title = params.get(SUBSCRIBE.title);
  const prioRaw = params.get(SUBSCRIBE.priority);
  const prio = prioRaw === undefined ? undefined : priorities(prioRaw);
  const tagsRaw = params.get(SUBSCRIBE.tags);
  const tags = tagsRaw?.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) ?? [];
  return {
    poll,
    since,
    matches: (n) => {
      if (id !== undefined && n.id !== id) return false;
      if (message !== undefined && n.body !== message) return false;
      if (title !== undefined && (n.untitled ? '' : n.title) !== title) return false;
      if (prio && !prio.has(n.priority)) return false;
      const own = n.tags.map((t) => t.toLowerCase());
      return tags.every((t) => own.includes(t));
    },
  };
}
