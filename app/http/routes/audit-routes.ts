import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import type { AuditLog } from '../../observability/audit-log';

// Admin: the audit log, newest first, and its chain verification (`beep audit verify`).

const MAX_PAGE = 500;

export function auditRoutes(audit: AuditLog): Router {
  const router = Router();

  router.get('/api/v1/audit', async (req, res) => {
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    const before = req.query.before === undefined ? null : Number(req.query.before);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new BeepError('invalid_query', `limit must be 1-${MAX_PAGE}.`);
    if (before !== null && (!Number.isInteger(before) || before < 1)) throw new BeepError('invalid_query', 'before must be an entry seq.');
    res.json(await audit.list(limit, before));
  });

  router.get('/api/v1/audit/verify', async (_req, res) => {
    res.json(await audit.verify());
  });

  return router;
}
