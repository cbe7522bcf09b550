import { toWireAction, type NotificationAction, type WireAction } from './action';
import type { Priority } from './priority';

// A notification as the whole app sees it; `seq` is the outbox order, `id` the public name.

export type NotificationSource = 'dbus' | 'macos' | 'windows' | 'http' | 'cli' | 'ntfy' | 'gotify';

/** The fields every notification carries, on the wire and inside the daemon alike. */
export interface NotificationCore {
  title: string;
  body: string;
  app: string;
  priority: Priority;
  tags: string[];
  url: string | null;
  topic: string | null;
  source: NotificationSource;
}

/**
 * A notification's attachment: a file Beep stores encrypted (`file`, its id in the attachment
 * store) or a link the publisher gave (`url`, shown as a link and never fetched by the daemon).
 */
export interface Attachment {
  name: string;
  /** Stored files: the type sniffed from their first bytes, their size in bytes, and when they are deleted (ms since epoch). */
  type?: string;
  size?: number;
  expiresMs?: number;
  file?: string;
  url?: string;
}

/** An attachment on the wire (ntfy's shape): `url` is the publisher's link, or a short-lived signed link to the stored file. */
export interface WireAttachment {
  name: string;
  url: string;
  type?: string;
  size?: number;
  /** Unix seconds when the stored file is deleted. */
  expires?: number;
}

/** Turns a stored file's attachment into a signed link (attachments/attachment-links.ts); null when it cannot be served. */
export type AttachmentLinker = (attachment: Attachment) => string | null;

/** The wire form of an attachment; a stored file without a linker (or past its expiry) is left out. */
export function toWireAttachment(a: Attachment, link?: AttachmentLinker): WireAttachment | undefined {
  if (a.url) return { name: a.name, url: a.url };
  const url = a.file ? link?.(a) : null;
  if (!url) return undefined;
  return { name: a.name, url, ...(a.type ? { type: a.type } : {}), ...(a.size !== undefined ? { size: a.size } : {}), ...(a.expiresMs ? { expires: Math.floor(a.expiresMs / 1000) } : {}) };
}

/** What a source hands to ingest after validation. */
export interface NotificationInput extends NotificationCore {
  id?: string;
  /** Public id of the notification this one updates (a desktop `replaces_id`); phones swap it in place. */
  replaces?: string | null;
  /** Icon name or URL the source gave (freedesktop icon name, file URI). */
  icon?: string | null;
  /** The sender's .desktop id; rules match on it, it is not stored. */
  desktopEntry?: string | null;
  /** The body is Markdown (ntfy X-Markdown, Gotify client::display). */
  markdown?: boolean;
  /** The publisher gave no title (ntfy): the title is the topic, ntfy subscribers see none. */
  untitled?: boolean;
  /** The API token (ntfy / Gotify) that published it; also the Gotify application id. */
  tokenId?: number | null;
  /** Scheduled delivery (ntfy Delay/At/In): ms since epoch when it is due; absent = now. Never stored on the row. */
  deliverAt?: number;
  /** ntfy `Cache: no`: owed only to who is connected when it is accepted, kept out of every history. */
  uncached?: boolean;
  /** Set by ingest for an uncached one: the devices connected at acceptance, the only ones it is owed to. */
  owedTo?: string[];
  /** The priority a Gotify publisher gave (any integer), returned as given on Gotify routes; `priority` is Beep's level for it. */
  givenPriority?: number;
  /** Action buttons (ntfy's view and http actions); absent when none. */
  actions?: NotificationAction[];
  /** A file or link attached (ntfy attachments, `beep send --file`); sealed with the row. */
  attachment?: Attachment | null;
}

/** An accepted notification: committed to the outbox, owed to every device paired before it. */
export interface StoredNotification extends Omit<NotificationInput, 'id' | 'desktopEntry'> {
  seq: number;
  id: string;
  createdAt: string;
  dismissedAt: string | null;
}

/** An input as stored once it has its id, seq and time: what is not stored (the .desktop id, the due time) dropped, the defaults filled in. */
export function storedFrom(input: NotificationInput, id: string, seq: number, createdAt: string): StoredNotification {
  // Field by field, not `{ desktopEntry, deliverAt, ...rest }` spread into a literal: V8 builds
  // such a rest object and its copy the slow way (25 µs a call in a micro-benchmark, 75 ns this
  // way), about 3 % of ingest's CPU in the bench's profile.
  const stored: StoredNotification = {
    title: input.title,
    body: input.body,
    app: input.app,
    priority: input.priority,
    tags: input.tags,
    url: input.url,
    topic: input.topic,
    source: input.source,
    replaces: input.replaces ?? null,
    icon: input.icon ?? null,
    markdown: input.markdown ?? false,
    untitled: input.untitled ?? false,
    tokenId: input.tokenId ?? null,
    id,
    seq,
    createdAt,
    dismissedAt: null,
  };
  if (input.uncached !== undefined) stored.uncached = input.uncached;
  if (input.owedTo !== undefined) stored.owedTo = input.owedTo;
  if (input.givenPriority !== undefined) stored.givenPriority = input.givenPriority;
  if (input.actions !== undefined) stored.actions = input.actions;
  if (input.attachment !== undefined) stored.attachment = input.attachment;
  return stored;
}

/** The wire shape of PROTOCOL.md ("Notification on the wire"). */
export interface WireNotification extends NotificationCore {
  id: string;
  createdAt: string;
  /** Present only on an update: the id of the notification it replaces (a compatible v1 extension). */
  replaces?: string;
  /** Present only when the source gave one. */
  icon?: string;
  /** Present (true) only when the body is Markdown (a compatible v1 extension). */
  markdown?: true;
  /** Present only when it has action buttons (a compatible v1 extension; an http action without its headers and body). */
  actions?: WireAction[];
  /** Present only with an attachment (a compatible v1 extension, PROTOCOL.md "Attachments"). */
  attachment?: WireAttachment;
}

/** Strips the internal fields; the one place the wire shape is built (`link` signs a stored attachment's URL). */
export function toWire(n: StoredNotification, link?: AttachmentLinker): WireNotification {
  const attachment = n.attachment ? toWireAttachment(n.attachment, link) : undefined;
  return {
    id: n.id,
    title: n.title,
    body: n.body,
    app: n.app,
    priority: n.priority,
    tags: n.tags,
    url: n.url,
    topic: n.topic,
    source: n.source,
    createdAt: n.createdAt,
    ...(n.replaces ? { replaces: n.replaces } : {}),
    ...(n.icon ? { icon: n.icon } : {}),
    ...(n.markdown ? { markdown: true as const } : {}),
    ...(n.actions?.length ? { actions: n.actions.map(toWireAction) } : {}),
    ...(attachment ? { attachment } : {}),
  };
}
