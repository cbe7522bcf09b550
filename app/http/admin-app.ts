import express, { type Express, type Router } from 'express';
import { MAX_REQUEST_BYTES } from '../config/defaults';
import type { DeviceDirectory } from '../gateway/device-directory';
import type { IngestService } from '../ingest/ingest-service';
import type { Logger } from '../observability/logger';
import type { HealthChecks } from '../observability/health';
import type { Metrics } from '../observability/metrics';
import type { PairingService } from '../pairing/pairing-service';
import { adminToken, loopbackHostOnly } from './admin-auth';
import { errorHandler, notFound, requestContext } from './edge';
import { deviceRoutes } from './routes/device-routes';
import { healthRoutes } from './routes/health-routes';
import { notificationRoutes, type HistorySource } from './routes/notification-routes';
import { rulesRoutes, type RulesAdmin } from './routes/rules-routes';
import { tokenRoutes, type TokenAdmin } from './routes/token-routes';

// The admin listener (loopback): ingest and admin API for the CLI, scripts and dashboard.

export interface AdminDeps {
  token: string;
  ingest: IngestService;
  history: HistorySource;
  pairing: PairingService;
  directory: DeviceDirectory;
  health: HealthChecks;
  rules: RulesAdmin;
  metrics: Metrics;
  logger: Logger;
  tokens: TokenAdmin;
  /** The Gotify and ntfy routers (before the JSON parser: they read their own bodies). */
  compat: Router[];
}

export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext('admin', deps.metrics));
  app.use(loopbackHostOnly);
  const authenticated = adminToken(deps.token);
  app.use(healthRoutes(deps.health, deps.metrics, authenticated));
  app.use('/api', authenticated);
  for (const router of deps.compat) app.use(router);
  // strict: false so a valid JSON scalar ("text", 42) reaches the route and is refused as
  // invalid_type; body-parser's strict mode would mislabel it invalid_json.
  app.use(express.json({ limit: MAX_REQUEST_BYTES, strict: false, type: 'application/json' }));
  app.use(notificationRoutes(deps.ingest, deps.history));
  app.use(deviceRoutes(deps.pairing, deps.directory));
  app.use(rulesRoutes(deps.rules));
  app.use(tokenRoutes(deps.tokens));
  app.use(notFound);
  app.use(errorHandler(deps.logger, () => deps.metrics.rejected.inc({ code: 'internal' })));
  return app;
}
