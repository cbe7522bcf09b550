import { Router } from 'express';
import { BeepError } from '../domain/errors';
import type { AttachmentSource, NotificationLookup } from './attachment-routes';
import type { AttachmentLinks } from './attachment-links';

// Gateway: GET /api/v1/attachments/<file>/link with the device's access token, a fresh signed
// link for a notification the phone already holds (links live an hour and die with a restart;
// the phone keeps notifications for days). Only for a notification the device may see.

export interface RelinkDeps {
  verify: (token: unknown) => Promise<{ deviceId: string }>;
  /** The device's topic filter (null = every topic), or undefined when it is unknown or revoked. */
  topicsOf: (deviceId: string) => Promise<string[] | null | undefined>;
  files: Pick<AttachmentSource, 'find'>;
  notifications: NotificationLookup;
  links: Pick<AttachmentLinks, 'pathOf'>;
}

function bearer(header: string | undefined): string {
  const match = /^Bearer ([^\s]+)$/.exec(header ?? '');
  if (!match) throw new BeepError('unauthenticated', 'Send the access token as Authorization: Bearer <token>.');
  return match[1];
}

export function attachmentRelinkRoute(deps: RelinkDeps): Router {
  const router = Router();
  router.get('/api/v1/attachments/:file/link', async (req, res) => {
    const { deviceId } = await deps.verify(bearer(req.headers.authorization));
    const topics = await deps.topicsOf(deviceId);
    if (topics === undefined) throw new BeepError('device_revoked');
    const id = String(req.params.file);
    const record = /^[A-Za-z0-9_-]{22}$/.test(id) ? await deps.files.find(id) : undefined;
    const n = record?.notificationId ? await deps.notifications.findById(record.notificationId) : undefined;
    const visible = n && (topics === null || n.topic === null || topics.includes(n.topic));
    const path = visible && n.attachment?.file === id ? deps.links.pathOf(n.attachment) : null;
    if (!path) throw new BeepError('attachment_expired');
    res.set('Cache-Control', 'no-store').json({ url: path });
  });
  return router;
}
