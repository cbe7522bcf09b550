import type { NotificationInput } from '../../domain/notification';
import type { Priority } from '../../domain/priority';
import { MAX_BODY_BYTES, MAX_TITLE_BYTES } from '../../config/defaults';
import { truncateBytes } from '../dbus/notify-mapping';
import { parseToast, ToastError, type ToastFault } from './toast-xml';

// One toast row of the Windows notification database (table Notification, Type 'toast', its
// Payload the toast XML; the app from NotificationHandler.PrimaryId) as a Beep notification.

/** Why a toast row was skipped: a bounded label for beep_capture_skipped_total. */
export type SkipReason = ToastFault | 'too_large' | 'unreadable' | 'empty';

/** A row that is not relayed; `reason` is counted, `message` is logged. */
export class SkippedToast extends Error {
  constructor(
    readonly reason: SkipReason,
    message: string,
  ) {
    super(message);
    this.name = 'SkippedToast';
  }
}

/** Bytes of payload read at most: Windows caps a toast's XML at 5 KB; anything far past that is not one. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_APP_BYTES = 64;

/** Scenarios that make a toast stay on screen until acted on, and the priority each earns. */
const SCENARIO_PRIORITY: Record<string, Priority> = { reminder: 4, alarm: 5, incomingcall: 5, urgent: 5 };

/** Well-known ids whose last part says little ("App", "15"): the name people know the app by. */
const KNOWN_APPS: Record<string, string> = {
  chrome: 'Google Chrome',
  msedge: 'Microsoft Edge',
  'microsoft.office.outlook.exe.15': 'Outlook',
  'microsoft.skydrive.desktop': 'OneDrive',
  'microsoft.windows.explorer': 'File Explorer',
  'msteams_8wekyb3d8bbwe!msteams': 'Microsoft Teams',
};

/**
 * A readable app name: the handler's display name when the database has one, a known id's name,
 * "Windows" for the system's own toasts, an AUMID's application part (after "!", or the package
 * name when that part is the generic "App"), an executable's name for a path; else the id.
 *
 *   friendlyAppName('Microsoft.WindowsCalculator_8wekyb3d8bbwe!App', null)  // 'Microsoft.WindowsCalculator'
 */
export function friendlyAppName(primaryId: string, displayName: string | null): string {
  const shown = displayName?.trim() ?? '';
  if (shown && !shown.startsWith('ms-resource:') && !shown.startsWith('@{')) return shown;
  const id = primaryId.trim();
  const known = KNOWN_APPS[id.toLowerCase()];
  if (known) return known;
  if (id.toLowerCase().startsWith('windows.systemtoast.')) return 'Windows';
  const bang = id.lastIndexOf('!');
  if (bang >= 0) {
    const application = id.slice(bang + 1);
    if (application && application.toLowerCase() !== 'app') return application;
    const family = id.slice(0, bang);
    return family.includes('_') ? family.slice(0, family.lastIndexOf('_')) : family;
  }
  const last = id.split(/[\\/]/).pop() ?? id;
  if (last !== id) return last.toLowerCase().endsWith('.exe') ? last.slice(0, -4) : last;
  return id;
}

/** The payload as text: UTF-8 unless a byte-order mark says UTF-16. */
function payloadText(payload: Buffer | string | null): string {
  if (payload === null) throw new SkippedToast('unreadable', 'the toast has no payload');
  if (typeof payload === 'string') return payload.replace(/^\uFEFF/, '');
  if (payload.length > MAX_PAYLOAD_BYTES) throw new SkippedToast('too_large', `the payload is ${payload.length} bytes`);
  const encoding = payload[0] === 0xff && payload[1] === 0xfe ? 'utf-16le' : payload[0] === 0xfe && payload[1] === 0xff ? 'utf-16be' : 'utf-8';
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(payload);
  } catch {
    throw new SkippedToast('unreadable', `the payload is not valid ${encoding}`);
  }
}

/** The notification a toast row stands for; throws SkippedToast for one that cannot be relayed. */
export function toastToInput(payload: Buffer | string | null, primaryId: string, displayName: string | null): NotificationInput {
  const xml = payloadText(payload);
  if (xml.length > MAX_PAYLOAD_BYTES) throw new SkippedToast('too_large', `the payload is ${xml.length} characters`);
  let toast;
  try {
    toast = parseToast(xml);
  } catch (error) {
    if (error instanceof ToastError) throw new SkippedToast(error.reason, error.message);
    throw error;
  }
  const [title, ...rest] = toast.texts;
  if (!title) throw new SkippedToast('empty', 'the toast has no text');
  const body = [...rest, ...(toast.attribution ? [toast.attribution] : [])].join('\n');
  return {
    title: truncateBytes(title, MAX_TITLE_BYTES),
    body: truncateBytes(body, MAX_BODY_BYTES),
    app: truncateBytes(friendlyAppName(primaryId, displayName), MAX_APP_BYTES),
    priority: SCENARIO_PRIORITY[toast.scenario?.toLowerCase() ?? ''] ?? 3,
    tags: [],
    url: toast.url,
    topic: null,
    source: 'windows',
    icon: toast.icon,
    desktopEntry: primaryId,
  };
}
