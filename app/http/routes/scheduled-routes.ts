import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import { ID_PATTERN } from '../../ingest/notification-schema';
import type { ScheduledEntry } from '../../schedule/scheduler';

// Admin: scheduled notifications (ntfy Delay/At/In) that have not fallen due yet — listed
// earliest first, and cancelled one by one (`beep scheduled`, the dashboard).

/** What the routes need; schedule/Scheduler implements it. */
export interface ScheduledAdmin {
  list(limit: number): Promise<ScheduledEntry[]>;
  cancel(id: string): Promise<boolean>;
}

/** scheduled notifications one list shows at most. */
const LIST_LIMIT = 500;

/** One entry as the admin API shows it (its text opened, as the history shows notifications). */
function toJson(e: ScheduledEntry) {
  const { title, body, app, priority, topic, source, tags } = e.input;
  return { id: e.id, dueAt: new Date(e.dueMs).toISOString(), createdAt: new Date(e.createdMs).toISOString(), title, body, app, priority, topic, tags, source };
}

export function scheduledRoutes(scheduled: ScheduledAdmin): Router {
  const router = Router();

  router.get('/api/v1/scheduled', async (_req, res) => {
    res.json((await scheduled.list(LIST_LIMIT)).map(toJson));
  });

  router.delete('/api/v1/scheduled/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!ID_PATTERN.test(id) || !(await scheduled.cancel(id))) throw new BeepError('scheduled_not_found');
    res.status(204).end();
  });

  return router;
}
