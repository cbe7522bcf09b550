import { Router, type RequestHandler } from 'express';
import type { HealthChecks } from '../../observability/health';
import type { Metrics } from '../../observability/metrics';

// Admin: liveness (open), detailed health and Prometheus metrics (behind the admin token).

export function healthRoutes(health: HealthChecks, metrics: Metrics, authenticated: RequestHandler): Router {
  const router = Router();
  const started = Date.now();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptime: Math.round((Date.now() - started) / 1000) });
  });

  router.get('/health/detailed', authenticated, async (_req, res) => {
    const report = await health.run();
    res.status(report.status === 'down' ? 503 : 200).json(report);
  });

  router.get('/metrics', authenticated, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return router;
}
