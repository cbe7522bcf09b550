import type { WireNotification } from '../domain/notification';
import { priorityName } from '../domain/priority';
import { localTime } from './text';

// How `beep listen` prints a notification for a person: local time, priority, app, title, tags,
// topic, the link it opens, then the body indented.

/** One notification as readable lines (`gateway` resolves a stored attachment's link). */
export function formatNotification(n: WireNotification, now = new Date(), gateway = ''): string {
  const tags = n.tags.length ? ` [${n.tags.join(', ')}]` : '';
  const topic = n.topic ? ` #${n.topic}` : '';
  const app = n.app ? `${n.app}: ` : '';
  const update = n.replaces ? ` (replaces ${n.replaces})` : '';
  const lines = [`${localTime(n.createdAt, now)} ${priorityName(n.priority).padEnd(7)} ${app}${n.title}${tags}${topic}${update}`];
  if (n.url) lines.push(`    → ${n.url}`);
  if (n.body) lines.push(`    ${n.body.replace(/\n/g, '\n    ')}`);
  const a = n.attachment;
  if (a) {
    const size = a.size === undefined ? '' : ` (${a.size} bytes)`;
    lines.push(`    📎 ${a.name}${size} ${a.url.startsWith('/') ? gateway + a.url : a.url}`);
  }
  return lines.join('\n');
}
