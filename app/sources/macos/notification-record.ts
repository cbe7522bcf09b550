import type { NotificationInput } from '../../domain/notification';
import { MAX_BODY_BYTES, MAX_TITLE_BYTES } from '../../config/defaults';
import { truncateBytes } from '../dbus/notify-mapping';
import { parseBinaryPlist, type PlistValue } from './binary-plist';

// One row of the macOS notification centre database (table `record`, its `data` column a
// binary plist: { app, req: { titl, subt, body, … }, … }) as a Beep notification.

const MAX_APP_BYTES = 64;

function text(value: PlistValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** The notification a record stands for, or null when it holds nothing to show. */
export function recordToInput(data: Buffer, appIdentifier: string | null): NotificationInput | null {
  const plist = parseBinaryPlist(data);
  if (!plist || typeof plist !== 'object' || Array.isArray(plist) || Buffer.isBuffer(plist) || plist instanceof Date) return null;
  const req = plist.req && typeof plist.req === 'object' && !Array.isArray(plist.req) ? (plist.req as Record<string, PlistValue>) : {};
  const app = text(plist.app) || appIdentifier || '';
  const title = text(req.titl).trim();
  const subtitle = text(req.subt).trim();
  const body = text(req.body);
  if (!title && !subtitle && !body.trim()) return null;
  return {
    title: truncateBytes(title || subtitle || app || 'Notification', MAX_TITLE_BYTES),
    body: truncateBytes(title && subtitle ? `${subtitle}\n${body}`.trim() : body, MAX_BODY_BYTES),
    app: truncateBytes(app, MAX_APP_BYTES),
    priority: 3,
    tags: [],
    url: null,
    topic: null,
    source: 'macos',
    desktopEntry: appIdentifier,
  };
}
