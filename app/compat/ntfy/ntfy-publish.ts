import type { NotificationAction } from '../../domain/action';
import { BeepError } from '../../domain/errors';
import type { Attachment, NotificationInput } from '../../domain/notification';
import { parsePriority, type Priority } from '../../domain/priority';
import { parseNotification } from '../../ingest/notification-schema';
import { dueAt, type DelayBounds } from '../../schedule/delay';
import { parseTopicList } from '../topics';
import { actionsFromHeader, actionsFromJson } from './ntfy-actions';
import { isTrue, NtfyParams, PUBLISH, UNSUPPORTED } from './ntfy-params';

// ntfy publishing (docs/publish.md) turned into a Beep notification: the body or `message`
// parameter (default "triggered"), title (none → the topic, marked untitled), priority 1-5 or
// its name (min, low, default, high, max/urgent; one to one with Beep's), tags, click (→ url),
// icon, markdown. Beep's limits and error codes apply unchanged.

/** What the adapter knows of the publisher besides the request. */
export interface Publisher {
  /** null: a token-less publish to an open topic (open-topics.ts). */
  tokenId: number | null;
  name: string;
}

/** ntfy's names, with `max` as the alias of `urgent`. */
function ntfyPriority(raw: unknown): Priority {
  if (raw === undefined || raw === null || raw === '') return 3;
  if (typeof raw === 'string' && raw.trim().toLowerCase() === 'max') return 5;
  const p = parsePriority(typeof raw === 'string' ? raw.trim() : raw);
  if (p === undefined) throw new BeepError('invalid_priority', 'The priority must be 1-5 or min, low, default, high, max, urgent.');
  return p;
}

function iconUrl(raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  let url: URL | undefined;
  try {
    url = new URL(String(raw));
  } catch {
    /* refused below */
  }
  if (typeof raw !== 'string' || raw.length > 2048 || !url || !['http:', 'https:'].includes(url.protocol)) {
    throw new BeepError('invalid_url', 'The icon must be an absolute http or https URL.');
  }
  return raw;
}

/** What a delay is read against: now, and the configured bounds (undefined: delays are refused). */
export interface Timing {
  nowMs: number;
  bounds?: DelayBounds;
}

/**
 * Scheduled delivery and `Cache: no`, as ntfy reads them: a delay with the cache off is refused
 * (40002) before the delay is parsed; an empty value is no delay.
 */
function timingOf(delay: string | undefined, cacheOff: boolean, timing: Timing): { deliverAt?: number; uncached?: true } {
  const delayed = delay !== undefined && delay.trim() !== '';
  if (delayed && cacheOff) throw new BeepError('delay_without_cache', undefined, { ntfyCode: 40002 });
  if (delayed && !timing.bounds) throw new BeepError('unsupported_parameter', 'Beep does not support ntfy delayed delivery here.');
  return { ...(delayed ? { deliverAt: dueAt(delay, timing.nowMs, timing.bounds!) } : {}), ...(cacheOff ? { uncached: true as const } : {}) };
}

/** A file the request's body was stored as (store/AttachmentFiles.save). */
export interface UploadedFile {
  id: string;
  size: number;
  type: string;
  expiresMs: number;
  /** The name to give it when the request named none (ntfy: "attachment.<ext>"). */
  name?: string;
}

/** A file name as given (no path, no control characters), at most 255 bytes. */
function fileName(raw: string): string {
  const name = raw.replace(/[\x00-\x1f\x7f]/g, '').split(/[\\/]/).pop()!.trim();
  if (Buffer.byteLength(name) > 255) throw new BeepError('invalid_attachment', 'The attachment\'s file name is longer than 255 bytes.');
  return name;
}

/** An `Attach:` URL: kept as a link (never fetched), named by `Filename:` or its last path segment. */
function linkAttachment(url: string, filename: string | undefined): Attachment {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    /* refused below */
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || url.length > 2048) {
    throw new BeepError('invalid_attachment', 'The attachment URL must be an absolute http or https URL of at most 2048 characters.');
  }
  let last = '';
  try {
    last = decodeURIComponent(parsed.pathname.split('/').pop() ?? '');
  } catch {
    /* an undecodable segment names nothing */
  }
  return { name: fileName(filename ?? '') || fileName(last) || 'attachment', url };
}

/** The name of the file this request's body is to be stored as, or null when the body is the message (ntfy: a `Filename` without `Attach`). */
export function uploadName(params: NtfyParams): string | null {
  const filename = params.get(PUBLISH.filename);
  if (filename === undefined || params.get(PUBLISH.attach) !== undefined) return null;
  return fileName(filename) || 'attachment';
}

interface Fields {
  topic: string;
  message: unknown;
  title: unknown;
  priority: unknown;
  tags: unknown;
  click: unknown;
  icon: unknown;
  markdown: boolean;
  actions: NotificationAction[];
  attachment?: Attachment;
}

/** Validates with Beep's schema (limits, codes), then adds what ntfy carries beyond it. */
function toInput(f: Fields, publisher: Publisher): NotificationInput {
  const [topic] = parseTopicList(f.topic);
  const message = typeof f.message === 'string' ? f.message.trim() : f.message;
  const untitled = f.title === undefined || f.title === null || (typeof f.title === 'string' && f.title.trim() === '');
  const input = parseNotification(
    {
      title: untitled ? topic : f.title,
      body: message === undefined || message === null || message === '' ? 'triggered' : message,
      app: publisher.name,
      priority: ntfyPriority(f.priority),
      tags: f.tags ?? [],
      url: f.click === undefined || f.click === '' ? null : f.click,
      topic,
    },
    'ntfy',
  );
  return { ...input, icon: iconUrl(f.icon), markdown: f.markdown, untitled, tokenId: publisher.tokenId, ...(f.actions.length ? { actions: f.actions } : {}), ...(f.attachment ? { attachment: f.attachment } : {}) };
}

/**
 * PUT/POST /<topic> (body = message, or the file when `file` is given) and GET
 * /<topic>/publish|send|trigger (query parameters).
 */
export function fromRequest(
  topic: string,
  params: NtfyParams,
  body: string,
  contentType: string | undefined,
  publisher: Publisher,
  timing: Timing,
  file?: UploadedFile,
): NotificationInput {
  for (const [feature, names] of Object.entries(UNSUPPORTED)) {
    if (params.has(names)) throw new BeepError('unsupported_parameter', `Beep does not support ntfy ${feature}.`);
  }
  const later = timingOf(params.get(PUBLISH.delay), params.get(PUBLISH.cache)?.trim().toLowerCase() === 'no', timing);
  const tags = params.get(PUBLISH.tags);
  const actions = params.get(PUBLISH.actions);
  const attach = params.get(PUBLISH.attach);
  const filename = params.get(PUBLISH.filename);
  const name = file ? (file.name ?? uploadName(params) ?? 'attachment') : '';
  const attachment: Attachment | undefined = file
    ? { name, type: file.type, size: file.size, expiresMs: file.expiresMs, file: file.id }
    : attach !== undefined
      ? linkAttachment(attach, filename)
      : undefined;
  // ntfy: an uploaded file must outlive its delayed delivery.
  if (later.deliverAt !== undefined && attachment?.expiresMs && attachment.expiresMs < later.deliverAt) {
    throw new BeepError('invalid_attachment', 'invalid request: attachment expiry before delayed delivery date', { ntfyCode: 40015 });
  }
  const input = toInput(
    {
      topic,
      // ntfy's words for a file sent without a message.
      message: params.get(PUBLISH.message) ?? (file ? `You received a file: ${name}` : body),
      attachment,
      title: params.get(PUBLISH.title),
      priority: params.get(PUBLISH.priority),
      tags: tags === undefined ? [] : tags.split(',').map((t) => t.trim()).filter((t) => t.length > 0),
      click: params.get(PUBLISH.click),
      icon: params.get(PUBLISH.icon),
      markdown: isTrue(params.get(PUBLISH.markdown)) || /^text\/markdown\b/i.test(contentType ?? ''),
      actions: actions === undefined ? [] : actionsFromHeader(actions),
    },
    publisher,
  );
  return { ...input, ...later };
}

const JSON_FIELDS = new Set(['topic', 'message', 'title', 'tags', 'priority', 'click', 'icon', 'markdown', 'actions', 'attach', 'filename', 'delay', 'cache']);
const JSON_UNSUPPORTED = new Set(['email', 'call', 'sequence_id', 'template', 'firebase']);

/** The topic a JSON publish names (checked before the token, which is scoped to topics). */
export function jsonTopic(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BeepError('invalid_type', 'The request body must be a JSON object.');
  const topic = (body as { topic?: unknown }).topic;
  if (typeof topic !== 'string') throw new BeepError('invalid_topic', 'A JSON publish needs "topic".');
  return parseTopicList(topic)[0];
}

/** PUT/POST / with a JSON object (docs/publish.md, "Publish as JSON"). */
export function fromJson(body: Record<string, unknown>, publisher: Publisher, timing: Timing): NotificationInput {
  for (const key of Object.keys(body)) {
    if (JSON_UNSUPPORTED.has(key)) throw new BeepError('unsupported_parameter', `Beep does not support the ntfy field "${key}".`);
    if (!JSON_FIELDS.has(key)) throw new BeepError('unknown_field', `"${key}" is not an ntfy publish field.`);
  }
  if (body.markdown !== undefined && typeof body.markdown !== 'boolean') throw new BeepError('invalid_type', '"markdown" must be a boolean.');
  if (body.priority !== undefined && typeof body.priority !== 'number') throw new BeepError('invalid_priority', '"priority" must be a number 1-5.');
  if (body.attach !== undefined && typeof body.attach !== 'string') throw new BeepError('invalid_attachment', '"attach" must be a URL.');
  if (body.filename !== undefined && typeof body.filename !== 'string') throw new BeepError('invalid_attachment', '"filename" must be a string.');
  if (body.delay !== undefined && typeof body.delay !== 'string' && typeof body.delay !== 'number') throw new BeepError('invalid_type', '"delay" must be a string.');
  const cacheOff = body.cache === false || (typeof body.cache === 'string' && body.cache.trim().toLowerCase() === 'no');
  const later = timingOf(body.delay === undefined ? undefined : String(body.delay), cacheOff, timing);
  const input = toInput(
    {
      topic: jsonTopic(body),
      message: body.message,
      title: body.title,
      priority: body.priority,
      tags: body.tags,
      click: body.click,
      icon: body.icon,
      markdown: body.markdown === true,
      actions: actionsFromJson(body.actions),
      // A JSON publish can only link a file (its body is the JSON).
      attachment: typeof body.attach === 'string' && body.attach !== '' ? linkAttachment(body.attach, body.filename as string | undefined) : undefined,
    },
    publisher,
  );
  return { ...input, ...later };
}
