import express, { type Express, type RequestHandler, type Router } from 'express';
import { MAX_REQUEST_BYTES } from '../config/defaults';
import type { DeviceDirectory } from '../gateway/device-directory';
import type { IngestService } from '../ingest/ingest-service';
import type { LeakInjector } from '../observability/leak-injector';
import type { HealthChecks } from '../observability/health';
import type { Metrics } from '../observability/metrics';
import type { PairingService } from '../pairing/pairing-service';
import { adminAuth } from './admin-auth';
import { addressOf } from './client-address';
import { jsonDepthGuard, notFound } from './edge';
import type { ListenerEdge } from './listener-edge';
import { crashRoutes } from './routes/crash-routes';
import { dashboardApiRoutes, dashboardPublicRoutes, type DashboardDeps } from './routes/dashboard-routes';
import { dashboardLoginRoutes, type PasswordLoginDeps } from './routes/dashboard-login-routes';
import { MAX_JSON_DEPTH } from './gateway-app';
import type { AuditLog } from '../observability/audit-log';
import { adminPasswordRoutes, type AdminCredentialStore } from './routes/admin-password-routes';
import { auditRoutes } from './routes/audit-routes';
import { certRoutes, type CertificateControl } from './routes/cert-routes';
import { keyRoutes, type KeyControl } from './routes/key-routes';
import { deviceRoutes } from './routes/device-routes';
import { diagnosticRoutes } from './routes/diagnostic-routes';
import { healthRoutes } from './routes/health-routes';
import { notificationRoutes, postNotification, type HistorySource } from './routes/notification-routes';
import type { AttachmentLinker } from '../domain/notification';
import { rulesRoutes, type RulesAdmin } from './routes/rules-routes';
import { tokenRoutes, type TokenAdmin } from './routes/token-routes';
import { scheduledRoutes, type ScheduledAdmin } from './routes/scheduled-routes';

// The admin listener (loopback): ingest and admin API for the CLI, scripts and the dashboard.

export interface AdminDeps {
  token: string;
  certificates: CertificateControl;
  audit: AuditLog;
  keys: KeyControl;
  credentials: AdminCredentialStore;
  ingest: IngestService;
  history: HistorySource;
  /** Signs stored attachments' links in the history (absent when attachments are off). */
  attachmentLink?: AttachmentLinker;
  pairing: PairingService;
  directory: DeviceDirectory;
  health: HealthChecks;
  rules: RulesAdmin;
  metrics: Metrics;
  /** The admin listener's edge: target, address, loopback Host check, error mapper. */
  edge: ListenerEdge;
  tokens: TokenAdmin;
  /** Scheduled notifications not yet due (list, cancel). */
  scheduled?: ScheduledAdmin;
  /** The Gotify and ntfy routers (before the JSON parser: they read their own bodies). */
  compat: Router[];
  dashboard: DashboardDeps;
  passwordLogin: PasswordLoginDeps;
  /** Only when `diagnostics.leakInjection` is on. */
  leakInjector?: LeakInjector;
  /** Only when `diagnostics.crashInjection` is on. */
  crashInjection?: boolean;
}

/** Strict CSP: the dashboard's own files only, no inline script or style, no framing. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  next();
};

export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // The edge refuses a Host that is not a loopback name (DNS rebinding), requests and upgrades alike.
  app.use(deps.edge.front());
  app.use(securityHeaders);
  const authenticated = adminAuth(deps.token, deps.dashboard.sessions, addressOf, (address) => {
    void deps.audit.record('auth_failed', `ip:${address}`, { channel: 'admin', code: 'invalid_token' });
  });
  // strict: false so a valid JSON scalar ("text", 42) reaches the route and is refused as
  // invalid_type; body-parser's strict mode would mislabel it invalid_json.
  const json = express.json({ limit: MAX_REQUEST_BYTES, strict: false, type: 'application/json', verify: jsonDepthGuard(MAX_JSON_DEPTH) });
  // The hot path, matched first: scripts post here all day, and each router below would test its path in turn.
  app.post('/api/v1/notifications', authenticated, json, ...postNotification(deps.ingest));
  app.use(healthRoutes(deps.health, deps.metrics, authenticated));
  app.use(dashboardPublicRoutes(deps.dashboard));
  app.use(dashboardLoginRoutes(deps.passwordLogin));
  app.use('/api', authenticated);
  for (const router of deps.compat) app.use(router);
  app.use(json);
  app.use(notificationRoutes(deps.history, deps.attachmentLink));
  app.use(deviceRoutes(deps.pairing, deps.directory));
  app.use(rulesRoutes(deps.rules));
  app.use(tokenRoutes(deps.tokens));
  if (deps.scheduled) app.use(scheduledRoutes(deps.scheduled));
  app.use(dashboardApiRoutes(deps.dashboard));
  if (deps.leakInjector) app.use(diagnosticRoutes(deps.leakInjector));
  if (deps.crashInjection) app.use(crashRoutes());
  app.use(certRoutes(deps.certificates));
  app.use(auditRoutes(deps.audit));
  app.use(keyRoutes(deps.keys));
  app.use(adminPasswordRoutes(deps.credentials, (totp) => void deps.audit.record('admin_password_set', 'admin', { totp })));
  app.use(notFound);
  app.use(deps.edge.errors(() => deps.metrics.rejected.inc({ code: 'internal' })));
  return app;
}
