import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import { requireJson } from '../edge';
import { tokenOnly } from '../admin-auth';

// DIAGNOSTIC ONLY, mounted on the admin listener when `diagnostics.crashInjection` is true:
// throws an uncaught exception (or leaves a rejection unhandled) outside any request, so a
// test can show that a crash is logged, exits non-zero and is restarted by the service manager.

/** The message every injected crash carries (tests look for it in the log). */
export const INJECTED_CRASH = 'injected crash (diagnostics.crashInjection)';

export function crashRoutes(): Router {
  const router = Router();
  router.post('/api/v1/diagnostics/crash', tokenOnly, requireJson, (req, res) => {
    const kind = (req.body as { kind?: unknown } | undefined)?.kind;
    if (kind !== 'exception' && kind !== 'rejection') throw new BeepError('validation_failed', 'kind must be "exception" or "rejection".');
    res.status(202).json({ kind });
    // After the answer has left, and outside the request's promise chain.
    res.once('finish', () =>
      setImmediate(() => {
        if (kind === 'exception') throw new Error(INJECTED_CRASH);
        void Promise.reject(new Error(INJECTED_CRASH));
      }),
    );
  });
  return router;
}
