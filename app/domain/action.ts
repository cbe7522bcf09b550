// Action buttons a notification may carry (ntfy's `view` and `http` actions). Stored whole,
// inside the row's one seal (an http action's headers often hold a credential); phones get
// them without an http action's headers and body, since the daemon performs that request.

/** At most this many buttons on one notification: ntfy's own limit. */
export const MAX_ACTIONS = 3;

/** One action button as stored and as ntfy subscribers read it (ntfy's JSON shape). */
export interface NotificationAction {
  /** Random, unique within the notification: what a phone names when it asks for the action. */
  id: string;
  action: 'view' | 'http';
  label: string;
  url: string;
  /** Dismiss the notification once the action has been taken (an http action: once it answered 2xx). */
  clear: boolean;
  /** http only, uppercase; ntfy's default is POST. */
  method?: string;
  /** http only. */
  headers?: Record<string, string>;
  /** http only. */
  body?: string;
}

/** What a phone is sent of an action (PROTOCOL.md, "Action buttons"): no headers, no body. */
export type WireAction = Omit<NotificationAction, 'headers' | 'body'>;

/** The phone's view of one action. */
export function toWireAction(a: NotificationAction): WireAction {
  return { id: a.id, action: a.action, label: a.label, url: a.url, clear: a.clear, ...(a.action === 'http' ? { method: a.method ?? 'POST' } : {}) };
}
