import { Router, type Request, type Response } from 'express';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BeepError } from '../domain/errors';
import type { StoredNotification } from '../domain/notification';
import type { Logger } from '../observability/logger';
import { FILE_ROUTE, type AttachmentLinks } from './attachment-links';

// GET /file/<id>?exp=&sig= on both listeners: a stored attachment, decrypted as it streams, to
// whoever holds a valid signed link (attachment-links.ts). Images the phone previews are served
// inline with their type; anything else as a download of application/octet-stream, sandboxed,
// so a stored file can never run as a page of the gateway's origin.

/** What a stored file's record says (store/AttachmentFiles implements it). */
export interface StoredFile {
  id: string;
  notificationId: string | null;
  size: number;
  expiresMs: number;
}

/** The attachment files, as the route reads them. */
export interface AttachmentSource {
  find(id: string): Promise<StoredFile | undefined>;
  /** Throws attachment_expired / attachment_damaged before a byte is read; the stream fails on a damaged chunk. */
  open(record: StoredFile): Promise<Readable>;
}

/** The notification an attachment belongs to (its name and type are in its seal). */
export interface NotificationLookup {
  findById(id: string): Promise<StoredNotification | undefined>;
}

export interface AttachmentRouteDeps {
  links: AttachmentLinks;
  files: AttachmentSource;
  notifications: NotificationLookup;
  logger: Logger;
  now?: () => number;
}

/** Types served inline (the phone previews them); everything else is a download. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A Content-Disposition that survives any file name (RFC 6266: an ASCII fallback plus filename*). */
function disposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_') || 'attachment';
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function attachmentRoutes(deps: AttachmentRouteDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  router.get(`${FILE_ROUTE}/:id`, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    deps.links.verify(id, req.query.exp, req.query.sig);
    const record = await deps.files.find(id);
    const notification = record?.notificationId ? await deps.notifications.findById(record.notificationId) : undefined;
    const attachment = notification?.attachment;
    if (!record || attachment?.file !== id) throw new BeepError('attachment_expired');
    const body = await deps.files.open(record);
    const type = attachment.type && INLINE_TYPES.has(attachment.type) ? attachment.type : 'application/octet-stream';
    res.status(200).set({
      'Content-Type': type,
      'Content-Length': String(record.size),
      'Content-Disposition': disposition(INLINE_TYPES.has(type) ? 'inline' : 'attachment', attachment.name),
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': `private, max-age=${Math.max(0, Math.floor((Math.min(record.expiresMs, Number(req.query.exp) * 1000) - now()) / 1000))}`,
    });
    try {
      await pipeline(body, res);
    } catch (error) {
      // Headers are out: the only honest answer left is a cut connection (Content-Length is not met).
      deps.logger.error('attachment not served', { file: id, error: String(error) });
      res.destroy();
    }
  });
  return router;
}
