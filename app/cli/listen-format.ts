import type { WireNotification } from '../domain/notification';
import { priorityName } from '../domain/priority';

// How `beep listen` prints a notification for a person: local time, priority, app, title, tags,
// topic, the link it opens, then the body indented.

/** "14:03:22" today, "Nov 27 14:03" on another day, in this machine's time zone. */
export function localTime(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const sameDay = at.toDateString() === now.toDateString();
  if (sameDay) return at.toLocaleTimeString(undefined, { hour12: false });
  const day = at.toLocaleDateString(undefined, { month: 'short', day: 'numeric', ...(at.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}) });
  return `${day} ${at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })}`;
}

/** One notification as readable lines. */
export function formatNotification(n: WireNotification, now = new Date()): string {
  const tags = n.tags.length ? ` [${n.tags.join(', ')}]` : '';
  const topic = n.topic ? ` #${n.topic}` : '';
  const app = n.app ? `${n.app}: ` : '';
  const update = n.replaces ? ` (replaces ${n.replaces})` : '';
  const lines = [`${localTime(n.createdAt, now)} ${priorityName(n.priority).padEnd(7)} ${app}${n.title}${tags}${topic}${update}`];
  if (n.url) lines.push(`    → ${n.url}`);
  if (n.body) lines.push(`    ${n.body.replace(/\n/g, '\n    ')}`);
  return lines.join('\n');
}
