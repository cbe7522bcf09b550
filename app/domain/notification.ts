import type { Priority } from './priority';

// A notification as the whole app sees it; `seq` is the outbox order, `id` the public name.

export type NotificationSource = 'dbus' | 'http' | 'cli' | 'ntfy' | 'gotify';

/** The wire shape of PROTOCOL.md ("Notification on the wire"). */
export interface WireNotification {
  id: string;
  title: string;
  body: string;
  app: string;
  priority: Priority;
  tags: string[];
  url: string | null;
  topic: string | null;
  source: NotificationSource;
  createdAt: string;
}

/** What a source hands to ingest after validation; `id` is the client's idempotency key. */
export interface NotificationInput extends Omit<WireNotification, 'id' | 'createdAt'> {
  id?: string;
}

/** An accepted notification: committed to the outbox, owed to every device paired before it. */
export interface StoredNotification extends WireNotification {
  seq: number;
  dismissedAt: string | null;
}

/** Strips the internal fields; the one place the wire shape is built. */
export function toWire(n: StoredNotification): WireNotification {
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
  };
}
