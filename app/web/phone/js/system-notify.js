// System notifications through the service worker's registration (works on Android, where
// `new Notification()` does not), only while the page is hidden and permission was given.

import { splitTags } from './emoji-tags.js';

/** Above this many new items at once (a catch-up), one summary instead of a flood. */
const MAX_SEPARATE = 3;

/** True when the user allowed system notifications for this site. */
export function notificationsAllowed() {
  return 'Notification' in window && Notification.permission === 'granted';
}

/** Shows `fresh` as system notifications when the page is not visible. */
export async function notifySystem(fresh) {
  if (document.visibilityState !== 'hidden' || !notificationsAllowed() || !navigator.serviceWorker) return;
  const registration = await navigator.serviceWorker.getRegistration();
  if (!registration) return;
  const urgent = fresh.filter((n) => n.priority === 5);
  const shown = fresh.length <= MAX_SEPARATE ? fresh : urgent.slice(0, MAX_SEPARATE);
  for (const n of shown) {
    const isUrgent = n.priority === 5;
    const { emoji } = splitTags(n.tags);
    const title = emoji.length ? `${emoji.join('')} ${n.title}` : n.title;
    await registration.showNotification(isUrgent ? `Urgent: ${title}` : title, {
      body: [n.app, n.body].filter(Boolean).join(' · '),
      tag: n.id,
      requireInteraction: isUrgent,
      silent: n.priority <= 2,
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
      timestamp: Date.parse(n.createdAt),
      data: { id: n.id },
    });
  }
  const rest = fresh.length - shown.length;
  if (rest > 0) {
    await registration.showNotification(`${rest} new notification${rest === 1 ? '' : 's'}`, {
      body: 'Open Beep to read them.',
      tag: 'beep-summary',
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
    });
  }
}
