import type { NotificationInput } from '../../domain/notification';
import type { Priority } from '../../domain/priority';
import { MAX_BODY_BYTES, MAX_TITLE_BYTES } from '../../config/defaults';

// org.freedesktop.Notifications.Notify's arguments, as a Beep notification. Pure: the fields
// come from any program on the session bus, so everything is bounded and markup is stripped.

/** Notify(s app_name, u replaces_id, s app_icon, s summary, s body, as actions, a{sv} hints, i expire_timeout). */
export interface NotifyCall {
  appName: string;
  replacesId: number;
  appIcon: string;
  summary: string;
  body: string;
  hints: Record<string, unknown>;
}

export const NOTIFY_SIGNATURE = 'susssasa{sv}i';
const MAX_APP_BYTES = 64;
const MAX_TAG_BYTES = 32;
const MAX_ICON_CHARS = 512;
/** urgency hint (byte) 0 low, 1 normal, 2 critical → Beep priority. */
const URGENCY_TO_PRIORITY: Record<number, Priority> = { 0: 2, 1: 3, 2: 5 };

/** The call's body as dbus-next hands it (variants are { signature, value }). */
export function parseNotifyBody(body: unknown[]): NotifyCall | null {
  if (!Array.isArray(body) || body.length !== 8) return null;
  const [appName, replacesId, appIcon, summary, text, , hints] = body;
  if (typeof appName !== 'string' || typeof summary !== 'string' || typeof text !== 'string') return null;
  const flat: Record<string, unknown> = {};
  if (hints && typeof hints === 'object') {
    for (const [key, variant] of Object.entries(hints as Record<string, { value?: unknown }>)) flat[key] = variant?.value;
  }
  return {
    appName,
    replacesId: typeof replacesId === 'number' ? replacesId : 0,
    appIcon: typeof appIcon === 'string' ? appIcon : '',
    summary,
    body: text,
    hints: flat,
  };
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > max - 3) break;
    out += ch;
    used += size;
  }
  return `${out}…`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The body markup servers may render (<b>, <i>, <u>, <a>, <img>) reduced to plain text. */
export function stripMarkup(text: string): string {
  return text
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]{0,1000}>/g, '')
    .replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,4});/gi, (whole, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
      const code = name[1].toLowerCase() === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    });
}

function stringHint(hints: Record<string, unknown>, ...names: string[]): string | null {
  for (const name of names) {
    const value = hints[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return null;
}

/** The Beep notification a Notify call stands for (`replaces` is filled in by the caller). */
export function toNotificationInput(call: NotifyCall): NotificationInput {
  const desktopEntry = stringHint(call.hints, 'desktop-entry');
  const app = truncateBytes(call.appName.trim() || desktopEntry || '', MAX_APP_BYTES);
  const title = truncateBytes(stripMarkup(call.summary).trim() || app || 'Notification', MAX_TITLE_BYTES);
  const urgency = call.hints.urgency;
  const category = stringHint(call.hints, 'category');
  const icon = call.appIcon.trim() || stringHint(call.hints, 'image-path', 'image_path');
  return {
    title,
    body: truncateBytes(stripMarkup(call.body), MAX_BODY_BYTES),
    app,
    priority: (typeof urgency === 'number' && URGENCY_TO_PRIORITY[urgency]) || 3,
    tags: category ? [truncateBytes(category, MAX_TAG_BYTES)] : [],
    url: null,
    topic: null,
    source: 'dbus',
    icon: icon ? icon.slice(0, MAX_ICON_CHARS) : null,
    desktopEntry,
  };
}
