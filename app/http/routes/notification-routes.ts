import { Router, type RequestHandler } from 'express';
import { BeepError } from '../../domain/errors';
import type { AttachmentLinker, NotificationSource, StoredNotification } from '../../domain/notification';
import { toWire } from '../../domain/notification';
import type { IngestService } from '../../ingest/ingest-service';
import { requireJson } from '../edge';

// Admin: POST /api/v1/notifications (ingest) and GET /api/v1/notifications (history).

export interface HistorySource {
  history(limit: number, before: string | null): Promise<StoredNotification[]>;
}

const MAX_HISTORY_PAGE = 500;
const DEFAULT_HISTORY_PAGE = 50;
/** Sources a local caller may claim with X-Beep-Source; anything else is plain `http`. */
const CLAIMABLE_SOURCES = new Set<NotificationSource>(['http', 'cli']);

function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_HISTORY_PAGE;
  const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_HISTORY_PAGE)) throw new BeepError('invalid_query', `limit must be 1-${MAX_HISTORY_PAGE}.`);
  return n;
}

/** POST /api/v1/notifications (ingest): the admin app mounts it first, after authentication and the JSON parser (the hot path). */
export function postNotification(ingest: IngestService): RequestHandler[] {
  return [
    requireJson,
    async (req, res) => {
      const claimed = req.get('X-Beep-Source') as NotificationSource | undefined;
      const source = claimed && CLAIMABLE_SOURCES.has(claimed) ? claimed : 'http';
      const result = await ingest.submit(req.body, source);
      if ('muted' in result) {
        res.status(200).json({ id: null, muted: result.muted });
        return;
      }
      const { notification, duplicate } = result;
      res.status(duplicate ? 200 : 202).json({
        id: notification.id,
        acceptedAt: notification.createdAt,
        ...(duplicate ? { duplicate: true, notification: toWire(notification) } : {}),
      });
    },
  ];
}

/** GET /api/v1/notifications (history). */
export function notificationRoutes(history: HistorySource, link?: AttachmentLinker): Router {
  const router = Router();

  router.get('/api/v1/notifications', async (req, res) => {
    const limit = parseLimit(req.query.limit);
    const before = req.query.before;
    if (before !== undefined && (typeof before !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(before))) {
      throw new BeepError('invalid_query', 'before must be a notification id.');
    }
    const items = await history.history(limit, (before as string | undefined) ?? null);
    res.json(items.map((n) => ({ ...toWire(n, link), dismissedAt: n.dismissedAt })));
  });

  return router;
}
