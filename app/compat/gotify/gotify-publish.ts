import { BeepError } from '../../domain/errors';
import type { NotificationInput } from '../../domain/notification';
import { parseNotification } from '../../ingest/notification-schema';
import { fromGotifyPriority } from './gotify-message';

// Gotify's CreateMessage (POST /message) as a Beep notification. JSON, form-urlencoded and
// multipart bodies carry `message` (required), `title` (default: the application — token —
// name, as Gotify does) and `priority`; JSON may carry `extras`, of which Beep keeps the
// `client::notification` click URL and `client::display` Markdown content type. The priority
// given is kept as it is (`givenPriority`, sealed with the row) for Gotify's routes; Beep's
// level for it (gotify-message.ts) is what drives delivery and what everyone else sees.

export interface Application {
  tokenId: number;
  name: string;
  /** The token's first topic: where its messages go (null = untopiced). */
  topic: string | null;
  /** The priority a message without one gets (set through Gotify's API); null = Beep's default. */
  defaultPriority: number | null;
}

const FIELDS = new Set(['message', 'title', 'priority', 'extras']);

/**
 * Gotify takes any integer its Go `int` holds; Beep keeps those a JavaScript number holds
 * exactly (±2^53-1), so what comes back is what was given.
 */
export function priorityOf(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'string' && /^[-+]?\d{1,16}$/.test(raw.trim()) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new BeepError('invalid_priority', `The Gotify priority must be an integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}.`);
  }
  return n;
}

function extrasOf(raw: unknown): { url: string | null; markdown: boolean } {
  if (raw === undefined || raw === null) return { url: null, markdown: false };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BeepError('invalid_type', '"extras" must be an object.');
  const extras = raw as Record<string, { click?: { url?: unknown }; contentType?: unknown } | undefined>;
  const url = extras['client::notification']?.click?.url;
  return { url: typeof url === 'string' ? url : null, markdown: extras['client::display']?.contentType === 'text/markdown' };
}

/** Validates with Beep's schema and limits; unknown fields are refused like Beep's own API. */
export function fromGotify(body: Record<string, unknown>, app: Application): NotificationInput {
  for (const key of Object.keys(body)) if (!FIELDS.has(key)) throw new BeepError('unknown_field', `"${key}" is not a Gotify message field.`);
  if (typeof body.message !== 'string' || body.message.trim() === '') throw new BeepError('validation_failed', '"message" is required.');
  const untitled = body.title === undefined || body.title === null || (typeof body.title === 'string' && body.title.trim() === '');
  const title = untitled ? app.name : body.title;
  const priority = priorityOf(body.priority) ?? app.defaultPriority ?? undefined;
  const { url, markdown } = extrasOf(body.extras);
  const input = parseNotification(
    { title, body: body.message, app: app.name, priority: priority === undefined ? 3 : fromGotifyPriority(priority), url, topic: app.topic },
    'gotify',
  );
  return { ...input, markdown, tokenId: app.tokenId, ...(priority === undefined ? {} : { givenPriority: priority }) };
}
