import express, { type Express } from 'express';
import { MAX_REQUEST_BYTES } from '../config/defaults';
import type { DeviceDirectory } from '../gateway/device-directory';
import type { IngestService } from '../ingest/ingest-service';
import type { Logger } from '../observability/logger';
import type { HealthChecks } from '../observability/health';
import type { Metrics } from '../observability/metrics';
import type { PairingService } from '../pairing/pairing-service';
import { adminToken, loopbackHostOnly } from './admin-auth';
import { errorHandler, jsonDepthGuard, notFound, requestContext } from './edge';
import { MAX_JSON_DEPTH } from './gateway-app';
import type { AuditLog } from '../observability/audit-log';
import { adminPasswordRoutes, type AdminCredentialStore } from './routes/admin-password-routes';
import { auditRoutes } from './routes/audit-routes';
import { certRoutes, type CertificateControl } from './routes/cert-routes';
import { keyRoutes, type KeyControl } from './routes/key-routes';
import { deviceRoutes } from './routes/device-routes';
import { healthRoutes } from './routes/health-routes';
import { notificationRoutes, type HistorySource } from './routes/notification-routes';

// The admin listener (loopback): ingest and admin API for the CLI, scripts and dashboard.

export interface AdminDeps {
  token: string;
  certificates: CertificateControl;
  audit: AuditLog;
  keys: KeyControl;
  credentials: AdminCredentialStore;
  ingest: IngestService;
  history: HistorySource;
  pairing: PairingService;
  directory: DeviceDirectory;
  health: HealthChecks;
  metrics: Metrics;
  logger: Logger;
}

export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext('admin', deps.metrics));
  app.use(loopbackHostOnly);
  const authenticated = adminToken(deps.token, (address) => {
    void deps.audit.record('auth_failed', `ip:${address}`, { channel: 'admin', code: 'invalid_token' });
  });
  app.use(healthRoutes(deps.health, deps.metrics, authenticated));
  app.use('/api', authenticated);
  // strict: false so a valid JSON scalar ("text", 42) reaches the route and is refused as
  // invalid_type; body-parser's strict mode would mislabel it invalid_json.
  app.use(
    express.json({ limit: MAX_REQUEST_BYTES, strict: false, type: 'application/json', verify: jsonDepthGuard(MAX_JSON_DEPTH) }),
  );
  app.use(notificationRoutes(deps.ingest, deps.history));
  app.use(deviceRoutes(deps.pairing, deps.directory));
  app.use(certRoutes(deps.certificates));
  app.use(auditRoutes(deps.audit));
  app.use(keyRoutes(deps.keys));
  app.use(adminPasswordRoutes(deps.credentials, (totp) => void deps.audit.record('admin_password_set', 'admin', { totp })));
  app.use(notFound);
  app.use(errorHandler(deps.logger, () => deps.metrics.rejected.inc({ code: 'internal' })));
  return app;
}
