import { Router, type Request, type Response } from 'express';
import type { Readable } from 'node:stream';
import { BeepError } from '../domain/errors';
import { toWireAttachment, type Attachment, type AttachmentLinker, type NotificationInput, type NotificationSource, type StoredNotification } from '../domain/notification';
import { parseNotification } from '../ingest/notification-schema';

// Admin: POST /api/v1/notifications/attachment, what `beep send --file` calls. The body is the
// file, streamed into the attachment store; the notification is Beep's usual JSON, in the
// X-Beep-Notification header (base64url), and the file's name in X-Beep-Filename
// (percent-encoded). The notification is checked before a byte of the file is read.

/** A stored file (store/AttachmentFiles). */
export interface UploadedFile {
  id: string;
  size: number;
  type: string;
  expiresMs: number;
}

/** What the route needs: the file store, ingest, and the links it answers with. */
export interface UploadDeps {
  files: { save(source: Readable, declaredBytes?: number): Promise<UploadedFile>; discard(id: string): Promise<void> };
  receive(source: NotificationSource, parse: () => NotificationInput): Promise<{ outcome: { notification: StoredNotification; duplicate: boolean } | { muted: string } }>;
  link: AttachmentLinker;
}

/** The notification of the header, checked with Beep's schema. */
function notificationOf(req: Request, source: NotificationSource): NotificationInput {
  const header = req.get('X-Beep-Notification');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new BeepError('validation_failed', 'X-Beep-Notification must be the notification JSON in base64url.');
  }
  return parseNotification(raw, source);
}

function fileNameOf(req: Request): string {
  let name = '';
  try {
    name = decodeURIComponent(req.get('X-Beep-Filename') ?? '');
  } catch {
    /* refused below */
  }
  name = name.replace(/[\x00-\x1f\x7f]/g, '').split(/[\\/]/).pop()!.trim();
  if (!name || Buffer.byteLength(name) > 255) throw new BeepError('invalid_attachment', 'X-Beep-Filename must name the file (at most 255 bytes, percent-encoded).');
  return name;
}

export function attachmentUploadRoute(deps: UploadDeps): Router {
  const router = Router();
  router.post('/api/v1/notifications/attachment', async (req: Request, res: Response) => {
    const source: NotificationSource = req.get('X-Beep-Source') === 'cli' ? 'cli' : 'http';
    const input = notificationOf(req, source);
    const name = fileNameOf(req);
    const declared = Number(req.headers['content-length']);
    let file: UploadedFile;
    try {
      file = await deps.files.save(req, Number.isFinite(declared) ? declared : undefined);
    } catch (error) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
      throw error;
    }
    const attachment: Attachment = { name, type: file.type, size: file.size, expiresMs: file.expiresMs, file: file.id };
    let kept = false;
    try {
      const { outcome } = await deps.receive(source, () => ({ ...input, attachment }));
      if ('muted' in outcome) return void res.status(200).json({ id: null, muted: outcome.muted });
      const { notification, duplicate } = outcome;
      kept = !duplicate;
      res.status(duplicate ? 200 : 202).json({
        id: notification.id,
        acceptedAt: notification.createdAt,
        ...(notification.attachment ? { attachment: toWireAttachment(notification.attachment, deps.link) } : {}),
      });
    } finally {
      if (!kept) await deps.files.discard(file.id);
    }
  });
  return router;
}
