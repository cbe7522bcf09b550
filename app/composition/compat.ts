import { verifyAdminPassword } from '../auth/admin-password';
import { ApiTokenService, type ApiTokenStore } from '../compat/api-tokens';
import type { AuditSink } from '../compat/audit-sink';
import type { Dismiss, GotifyMessages, Publish, SubscriberHistory } from '../compat/ports';
import { StreamSlots } from '../compat/stream-slots';
import type { SubscriberHub } from '../compat/subscriber-hub';
import type { RelayBus } from '../delivery/relay-bus';
import { handshakeServer, type UpgradeRoute } from '../compat/upgrades';
import { ntfyRoutes, type NtfyAttachments } from '../compat/ntfy/ntfy-routes';
import { ntfyWebSocket } from '../compat/ntfy/ntfy-ws';
import { GotifyLogin } from '../compat/gotify/gotify-login';
import { gotifyRoutes } from '../compat/gotify/gotify-routes';
import { gotifyStream } from '../compat/gotify/gotify-stream';
import { GOTIFY_DELETE_PAGE, STREAM_BACKLOG_PAGE, STREAM_END_GRACE_MS, STREAM_HIGH_WATER_BYTES, STREAM_RETRY_AFTER_SEC } from '../config/defaults';
import type { BeepConfig } from '../config/schema';
import type { IngestService } from '../ingest/ingest-service';
import type { AuditLog } from '../observability/audit-log';
import type { Metrics } from '../observability/metrics';
import type { AdminCredentials } from '../store/admin-credential-store';
import { VERSION } from '../version';
import type { Router } from 'express';
import type { WebSocketServer } from 'ws';
import type { LogFor } from './observability';
import type { Budgets } from './security';

// ntfy and Gotify: API tokens, the live fan-out, and one set of routes per listener.
// Their audit events go to the hash-chained log; the actor is the token, else the address.

/** bytes a compat WebSocket client may send: subscribers only listen. */
const COMPAT_MAX_FRAME_BYTES = 4 * 1024;

/** One listener's compat routers (before the JSON parser) and WebSocket upgrade routes (behind the listener's edge). */
export interface CompatListener {
  routers: Router[];
  upgrades: UpgradeRoute[];
}

/** The compat parts: token admin, the shared handshake server (closed at stop), both listeners. */
export interface Compat {
  apiTokens: ApiTokenService;
  handshakes: WebSocketServer;
  admin: CompatListener;
  gateway: CompatListener;
}

/** What compat reads and writes in storage: tokens, the subscribers' history (and Gotify's lists), the dashboard password (Gotify login), a health probe. */
export interface CompatStorage {
  tokens: ApiTokenStore;
  history: SubscriberHistory & GotifyMessages;
  credentials: () => Promise<AdminCredentials | undefined>;
  ping: () => Promise<void>;
}

/** Builds API tokens and the ntfy/Gotify routes for both listeners (empty when compat is off). */
export function buildCompat(
  config: BeepConfig,
  parts: { storage: CompatStorage; ingest: IngestService; hub: SubscriberHub; bus: RelayBus; metrics: Metrics; audit: AuditLog; budgets: Budgets; dismiss: Dismiss; attachments?: NtfyAttachments },
  log: LogFor,
): Compat {
  const { storage, ingest, hub, bus, metrics, audit, budgets } = parts;
  const { history } = storage;
  const compatAudit: AuditSink = {
    record: (event, fields, actor) => {
      const who = actor ?? (typeof fields.tokenId === 'number' ? `token:${fields.tokenId}` : typeof fields.ip === 'string' ? `ip:${fields.ip}` : 'admin');
      void audit.record(event, who, fields);
    },
  };
  // Bad tokens and bad Gotify passwords spend one per-address failure budget.
  const failures = budgets.credentialFailures;
  const apiTokens = new ApiTokenService(
    storage.tokens,
    failures,
    budgets.tokenRequests,
    compatAudit,
    Date.now,
    (scope) => metrics.rateLimited.inc({ scope }),
  );
  apiTokens.onRevoked((id) => void bus.tokenRevoked(id));
  const login = new GotifyLogin({
    credentials: storage.credentials,
    verify: verifyAdminPassword,
    failures,
    audit: compatAudit,
    onLimited: () => metrics.rateLimited.inc({ scope: 'api_token_failures' }),
  });
  const publish: Publish = { receive: (source, parse) => ingest.receive(source, parse) };
  const handshakes = handshakeServer(COMPAT_MAX_FRAME_BYTES);
  const streams = {
    endGraceMs: STREAM_END_GRACE_MS, highWaterBytes: STREAM_HIGH_WATER_BYTES, stalledCloseMs: config.compat.stalledStreamCloseSec * 1000,
    onStalled: () => metrics.streamsStalled.inc(),
  };
  // One count of open streams for both listeners: the caps are per token and per address, wherever they connect.
  const slots = new StreamSlots(
    { perToken: config.compat.streamsPerToken, perAddress: config.compat.streamsPerAddress, retryAfterSec: STREAM_RETRY_AFTER_SEC },
    (scope) => metrics.rateLimited.inc({ scope }),
  );
  const listenerFor = (listener: 'admin' | 'gateway'): CompatListener => {
    const logger = log(`compat-${listener}`);
    const ntfy = {
      tokens: apiTokens, publish, hub, history, listener, logger, now: Date.now, streams, slots, pageSize: STREAM_BACKLOG_PAGE,
      retentionSec: config.store.retentionDays * 86_400, keepaliveMs: config.compat.keepaliveSec * 1000,
      attachments: parts.attachments,
      // Token-less local publishing: the loopback admin listener only.
      openTopics: new Set(listener === 'admin' ? config.compat.ntfy.openTopics : []),
      delayBounds: { minSec: config.compat.ntfy.minDelaySec, maxSec: config.compat.ntfy.maxDelaySec },
    };
    const gotify = {
      tokens: apiTokens, login, publish, version: VERSION, listener, logger,
      messages: history, dismiss: parts.dismiss, deletePage: GOTIFY_DELETE_PAGE,
      // Beep's admin listener keeps its own /health; Gotify's shape is on the gateway only.
      health: listener === 'gateway' ? async () => (await storage.ping(), true) : null,
    };
    const stream = { tokens: apiTokens, hub, history, slots, pingMs: config.compat.pingSec * 1000, streams, listener, logger };
    return {
      routers: config.compat.enabled ? [gotifyRoutes(gotify), ntfyRoutes(ntfy)] : [],
      upgrades: config.compat.enabled ? [gotifyStream(stream, handshakes), ntfyWebSocket(ntfy, handshakes)] : [],
    };
  };
  return { apiTokens, handshakes, admin: listenerFor('admin'), gateway: listenerFor('gateway') };
}
