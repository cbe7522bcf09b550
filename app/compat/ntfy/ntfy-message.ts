import crypto from 'node:crypto';
import type { NotificationAction } from '../../domain/action';
import { toWireAttachment, type AttachmentLinker, type StoredNotification, type WireAttachment } from '../../domain/notification';

// ntfy's JSON message format (docs/subscribe/api.md, "JSON message format"): the shape every
// ntfy subscriber endpoint and the publish answer use. Beep's notification id is the ntfy id.

export interface NtfyMessage {
  id: string;
  time: number;
  expires?: number;
  event: 'open' | 'keepalive' | 'message';
  topic: string;
  title?: string;
  message?: string;
  priority?: number;
  tags?: string[];
  click?: string;
  icon?: string;
  content_type?: 'text/markdown';
  actions?: NotificationAction[];
  /** ntfy's attachment object: name, url, and for a stored file its type, size and expiry. */
  attachment?: WireAttachment;
}

/** A random id for open and keepalive events, shaped like ntfy's (12 characters). */
function eventId(): string {
  return crypto.randomBytes(9).toString('base64url');
}

/** `open` (topics comma-separated) or `keepalive`. */
export function controlEvent(event: 'open' | 'keepalive', topics: readonly string[], nowMs: number): NtfyMessage {
  return { id: eventId(), time: Math.floor(nowMs / 1000), event, topic: topics.join(',') };
}

/**
 * A stored notification as an ntfy `message` event. Optional fields are left out when unset,
 * as ntfy does: no title when the publisher gave none, no priority when it is the default (3),
 * no tags when empty. `expires` is when Beep's retention drops it.
 */
export function toNtfyMessage(n: StoredNotification, retentionSec: number, link?: AttachmentLinker): NtfyMessage {
  const time = Math.floor(Date.parse(n.createdAt) / 1000);
  const attachment = n.attachment ? toWireAttachment(n.attachment, link) : undefined;
  return {
    id: n.id,
    time,
    expires: time + retentionSec,
    event: 'message',
    topic: n.topic ?? '',
    ...(n.untitled ? {} : { title: n.title }),
    message: n.body,
    ...(n.priority !== 3 ? { priority: n.priority } : {}),
    ...(n.tags.length ? { tags: n.tags } : {}),
    ...(n.url ? { click: n.url } : {}),
    ...(n.icon ? { icon: n.icon } : {}),
    ...(n.markdown ? { content_type: 'text/markdown' as const } : {}),
    ...(n.actions?.length ? { actions: n.actions } : {}),
    ...(attachment ? { attachment } : {}),
  };
}
