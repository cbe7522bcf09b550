import type { WireAction } from '../domain/action';
import type { WireNotification } from '../domain/notification';
import { priorityName } from '../domain/priority';
import { localTime } from './text';

// How `beep listen` prints a notification for a person: local time, priority, app, title, tags,
// topic, the link it opens, then the body indented, then its action buttons (ntfy's view and
// http actions; an http one is sent by the PC when a phone taps it).

/** One notification as readable lines (`gateway` resolves a stored attachment's link). */
export function formatNotification(n: WireNotification, now = new Date(), gateway = ''): string {
  const tags = n.tags.length ? ` [${n.tags.join(', ')}]` : '';
  const topic = n.topic ? ` #${n.topic}` : '';
  const app = n.app ? `${n.app}: ` : '';
  const update = n.replaces ? ` (replaces ${n.replaces})` : '';
  const lines = [`${localTime(n.createdAt, now)} ${priorityName(n.priority).padEnd(7)} ${app}${n.title}${tags}${topic}${update}`];
  if (n.url) lines.push(`    → ${n.url}`);
  if (n.body) lines.push(`    ${n.body.replace(/\n/g, '\n    ')}`);
  for (const a of n.actions ?? []) lines.push(`    ${actionLine(a)}`);
  const a = n.attachment;
  if (a) {
    const size = a.size === undefined ? '' : ` (${a.size} bytes)`;
    lines.push(`    📎 ${a.name}${size} ${a.url.startsWith('/') ? gateway + a.url : a.url}`);
  }
  return lines.join('\n');
}

/** Control characters (a terminal escape in a label) never reach the terminal. */
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

/** `[Open portal] → https://…` for a view action, `[Close door] PUT https://… (sent by the PC)` for an http one. */
function actionLine(a: WireAction): string {
  const label = `[${printable(a.label)}]`;
  const clear = a.clear ? ', then clears' : '';
  if (a.action === 'view') return `${label} → ${printable(a.url)}${clear ? ` (${clear.slice(2)})` : ''}`;
  return `${label} ${a.method ?? 'POST'} ${printable(a.url)} (sent by the PC${clear})`;
}
