import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import type { LeakInjector } from '../../observability/leak-injector';
import { requireJson } from '../edge';
import { tokenOnly } from '../admin-auth';

// DIAGNOSTIC ONLY, mounted on the admin listener when `diagnostics.leakInjection` is true:
// start and release an injected memory leak (admin token required, never a cookie).

export function diagnosticRoutes(leak: LeakInjector): Router {
  const router = Router();
  router.post('/api/v1/diagnostics/leak', tokenOnly, requireJson, (req, res) => {
    const { mbPerSec, seconds } = (req.body ?? {}) as { mbPerSec?: unknown; seconds?: unknown };
    if (typeof mbPerSec !== 'number' || !(mbPerSec > 0 && mbPerSec <= 50)) throw new BeepError('validation_failed', 'mbPerSec must be 0-50.');
    if (typeof seconds !== 'number' || !(seconds > 0 && seconds <= 600)) throw new BeepError('validation_failed', 'seconds must be 0-600.');
    leak.start(mbPerSec, seconds);
    res.status(202).json({ mbPerSec, seconds });
  });
  router.delete('/api/v1/diagnostics/leak', tokenOnly, (_req, res) => {
    leak.release();
    res.status(204).end();
  });
  return router;
}
