import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import type { BeepConfig } from './config/schema';
import { loadOrCreateCertificates, type TlsMaterial } from './crypto/certificates';
import { MemoryAttemptLimiter } from './auth/failure-limiter';
import { loadOrCreateSigningKey } from './auth/signing-keys';
import { TokenService } from './auth/token-service';
import { loadOrCreateAdminToken, removeRuntimeInfo, writeRuntimeInfo } from './discovery';
import { Delivery } from './gateway/delivery';
import { DeviceDirectory } from './gateway/device-directory';
import { attachDeviceNamespace } from './gateway/device-namespace';
import { createAdminApp } from './http/admin-app';
import { createGatewayApp } from './http/gateway-app';
import { IngestService } from './ingest/ingest-service';
import { RulesEngine } from './ingest/rules/rules-engine';
import type { NotificationInput } from './domain/notification';
import { saveRules, validateRules } from './config/rules-file';
import type { RulesConfig } from './config/schema';
import { DbusCapture } from './sources/dbus/dbus-capture';
import { MacosCapture } from './sources/macos/macos-capture';
import type { CaptureSink, DesktopSource } from './sources/source';
import type { CheckOutcome } from './observability/health';
import { HealthChecks } from './observability/health';
import type { Logger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { PairingService } from './pairing/pairing-service';
import { systemTimers } from './queue/timers';
import { Store } from './store/store';
import { VERSION } from './version';
import { isLoopbackHost } from './http/admin-auth';
import { BeepError } from './domain/errors';
import { ApiTokenService } from './compat/api-tokens';
import { LogAuditSink } from './compat/audit-sink';
import { MemoryRequestLimiter } from './compat/request-limiter';
import { SubscriberHub } from './compat/subscriber-hub';
import type { Publish, SubscriberHistory } from './compat/ports';
import { handshakeServer, routeUpgrades } from './compat/upgrades';
import { ntfyRoutes } from './compat/ntfy/ntfy-routes';
import { ntfyWebSocket } from './compat/ntfy/ntfy-ws';
import { gotifyRoutes } from './compat/gotify/gotify-routes';
import { gotifyStream } from './compat/gotify/gotify-stream';
import type { WebSocketServer } from 'ws';

// The composition root: builds every part from the config, starts them in order, stops them
// in reverse. Nothing imports this file but main.ts and the bench.

export interface Daemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  addresses(): { gatewayPort: number; adminPort: number };
}

/** ms between retention sweeps. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** bytes a compat WebSocket client may send: subscribers only listen. */
const COMPAT_MAX_FRAME_BYTES = 4 * 1024;
/** bytes a device's socket.io frame may carry: acks and dismissals are tiny. */
const DEVICE_MAX_FRAME_BYTES = 16 * 1024;

function lanAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

export function createDaemon(config: BeepConfig, logger: Logger): Daemon {
  let tls: TlsMaterial;
  let store: Store;
  let adminServer: http.Server;
  let gatewayServer: https.Server;
  let io: SocketServer;
  let delivery: Delivery;
  let pruneTimer: NodeJS.Timeout | undefined;
  let ingest: IngestService | undefined;
  let sources: DesktopSource[] = [];
  const hub = new SubscriberHub();
  let handshakes: WebSocketServer | undefined;
  let ports = { gatewayPort: 0, adminPort: 0 };

  async function start(): Promise<void> {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const adminToken = loadOrCreateAdminToken(config.dataDir);
    tls = await loadOrCreateCertificates({ dir: config.tls.certDir });
    const signingKey = loadOrCreateSigningKey(path.join(config.dataDir, 'keys'));

    // Metrics read live values from parts built below; the closures resolve at scrape time.
    const metrics = new Metrics({
      queueDepth: () => delivery?.depthByPriority() ?? {},
      connectedDevices: () => delivery?.connected ?? 0,
      certificateExpiry: () => tls.notAfter,
    });
    store = new Store({
      dataDir: config.dataDir,
      durability: config.store.durability,
      groupCommitMaxOps: config.store.groupCommitMaxOps,
      groupCommitWindowMs: config.store.groupCommitWindowMs,
      readPoolSize: config.store.readPoolSize,
      maxBytes: config.store.maxSizeMb ? config.store.maxSizeMb * 1024 * 1024 : undefined,
      onCommit: (seconds, size, ok) => {
        metrics.commitDuration.observe({ outcome: ok ? 'ok' : 'failed' }, seconds);
        metrics.commitGroupSize.observe(size);
        if (!ok) logger.error('group commit failed', { component: 'store', size });
      },
      onAcquire: (seconds) => metrics.readAcquire.observe(seconds),
    });

    const log = (component: string) => logger.child({ component });
    delivery = new Delivery(store, config.queue, systemTimers, {
      onBatch: (size, redelivered) => {
        metrics.batchSize.observe(size);
        if (redelivered > 0) metrics.redelivered.inc(redelivered);
      },
      onDelivered: (latencies) => {
        metrics.delivered.inc(latencies.length);
        for (const l of latencies) metrics.deliveryLatency.observe(l);
      },
      onError: (error, context) => log('delivery').error('delivery error', { context, error: String(error) }),
    });
    let rules: RulesConfig = config.rules;
    const engine = new RulesEngine<NotificationInput>(rules, Date.now);
    const ingestService = new IngestService(
      store,
      (n) => {
        delivery.accepted(n);
        hub.accepted(n);
      },
      {
        onIngested: (source) => metrics.ingested.inc({ source }),
        onRejected: (code) => metrics.rejected.inc({ code }),
        onAccepted: (n) => metrics.accepted.inc({ source: n.source }),
        onMuted: (rule, source) => metrics.muted.inc({ rule, source }),
        onError: (error, context) => log('ingest').error('ingest error', { context, error: String(error) }),
      },
      { engine, timers: { now: Date.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) } },
    );
    ingest = ingestService;
    const rulesAdmin = {
      current: () => rules,
      replace: (raw: unknown) => {
        const outcome = validateRules(raw);
        if ('problems' in outcome) return outcome;
        saveRules(config.dataDir, outcome.rules);
        rules = outcome.rules;
        engine.setRules(rules);
        log('rules').info('rules replaced', { keywords: rules.keywords.length, quietWindows: rules.quietHours.windows.length });
        return outcome;
      },
    };
    /** Closed on the desktop: dismissed on every phone, through the same path a phone's dismiss takes. */
    const dismiss = async (id: string, byDevice: string | null): Promise<boolean> => {
      const result = await store.dismiss(id, byDevice, (r) => {
        if (r) delivery.dismissed(id, r.seq, r.dismissalSeq, byDevice);
      });
      return result !== null;
    };
    const sink: CaptureSink = {
      accept: async (input) => {
        const outcome = await ingestService.accept(input);
        return 'muted' in outcome ? null : outcome.notification.id;
      },
      dismissed: async (id) => void (await dismiss(id, null)),
    };
    const dbusConfig = config.sources.dbus;
    sources = [
      new DbusCapture(
        { enabled: dbusConfig.enabled, address: dbusConfig.address, expected: dbusConfig.addressOrigin === 'config', retryMs: dbusConfig.retrySec * 1000 },
        sink,
        store,
        log('dbus'),
      ),
      new MacosCapture({ ...config.sources.macos, pollMs: config.sources.macos.pollSec * 1000 }, sink, log('macos')),
    ];
    const tokens = new TokenService(signingKey, store, config.auth.accessTokenTtlSec);
    const pairingLog = log('pairing');
    const pairing = new PairingService(
      store,
      tokens,
      new MemoryAttemptLimiter(config.rateLimits.pairingAttempts, config.rateLimits.pairingWindowSec),
      {
        codeTtlSec: config.auth.pairingCodeTtlSec,
        refreshTtlDays: config.auth.refreshTokenTtlDays,
        gatewayUrl: () => {
          const bound = config.gateway.host;
          const host =
            config.gateway.publicHost ??
            (bound === '0.0.0.0' || bound === '::' ? (lanAddress() ?? 'localhost') : bound === '127.0.0.1' ? 'localhost' : bound);
          return `https://${host.includes(':') ? `[${host}]` : host}:${ports.gatewayPort}`;
        },
        caFingerprint: () => tls.caFingerprint,
      },
      {
        onPaired: (d) => pairingLog.info('device paired', { deviceId: d.id, platform: d.platform }),
        onFailedAttempt: (ip) => pairingLog.warn('failed pairing attempt', { ip }),
        onRefreshReuse: (deviceId) => {
          pairingLog.warn('refresh token reused; device signed out', { deviceId });
          delivery.revoke(deviceId);
        },
      },
    );
    const directory = new DeviceDirectory(store, delivery, (id) => log('devices').info('device revoked', { deviceId: id }));
    const health = new HealthChecks({
      database: async () => {
        await store.ping();
        return { status: 'ok', pool: store.pool.stats() };
      },
      queue: () => ({ status: 'ok', depth: delivery.depthByPriority(), connectedDevices: delivery.connected }),
      certificate: () => {
        const days = (tls.notAfter.getTime() - Date.now()) / 86_400_000;
        const status = days <= 0 ? 'down' : days < 7 ? 'degraded' : 'ok';
        return { status, expiresAt: tls.notAfter.toISOString(), ...(status !== 'ok' ? { reason: `expires in ${days.toFixed(1)} days` } : {}) };
      },
      memory: () => ({ status: 'ok', rssBytes: process.memoryUsage().rss }),
      sources: () => sourcesHealth(sources),
    });

    // ntfy and Gotify: API tokens, the live fan-out, and one set of routes per listener.
    const apiTokens = new ApiTokenService(
      store,
      new MemoryAttemptLimiter(config.compat.tokenFailures, config.compat.tokenFailureWindowSec),
      new MemoryRequestLimiter(config.compat.tokenRequestsPerMinute, 60),
      new LogAuditSink(log('audit')),
    );
    apiTokens.onRevoked((id) => hub.closeToken(id));
    const subscriberHistory: SubscriberHistory = {
      after: (afterSeq, sinceMs, topics, limit) => store.topicHistory.after(afterSeq, sinceMs, topics, limit),
      before: (beforeSeq, topics, limit) => store.topicHistory.before(beforeSeq, topics, limit),
      seqOf: (id) => store.seqOf(id),
    };
    const publish: Publish = { accept: (input) => ingestService.accept(input) };
    const compatFor = (listener: 'admin' | 'gateway') => {
      const logger = log(`compat-${listener}`);
      const ntfy = {
        tokens: apiTokens, publish, hub, history: subscriberHistory, listener, logger, now: Date.now,
        retentionSec: config.store.retentionDays * 86_400, keepaliveMs: config.compat.keepaliveSec * 1000,
      };
      const gotify = {
        tokens: apiTokens, publish, history: subscriberHistory, version: VERSION, listener, logger,
        // Beep's admin listener keeps its own /health; Gotify's shape is on the gateway only.
        health: listener === 'gateway' ? async () => (await store.ping(), true) : null,
      };
      const stream = { tokens: apiTokens, hub, pingMs: config.compat.pingSec * 1000, listener, logger };
      handshakes ??= handshakeServer(COMPAT_MAX_FRAME_BYTES);
      return {
        routers: config.compat.enabled ? [gotifyRoutes(gotify), ntfyRoutes(ntfy)] : [],
        upgrades: config.compat.enabled ? [gotifyStream(stream, handshakes), ntfyWebSocket(ntfy, handshakes)] : [],
      };
    };
    const adminCompat = compatFor('admin');
    const gatewayCompat = compatFor('gateway');

    adminServer = http.createServer(
      createAdminApp({
        token: adminToken, ingest: ingestService, rules: rulesAdmin, history: store, pairing, directory, health, metrics,
        logger: log('admin'), tokens: apiTokens, compat: adminCompat.routers,
      }),
    );
    gatewayServer = https.createServer(
      { cert: tls.certPem, key: tls.keyPem, ca: tls.caCertPem, minVersion: config.tls.minVersion },
      createGatewayApp({ pairing, caCertPem: () => tls.caCertPem, metrics, logger: log('gateway'), compat: gatewayCompat.routers }),
    );
    const dialectOf = (url: URL) => (url.pathname === '/stream' ? 'gotify' : 'ntfy') as 'gotify' | 'ntfy';
    routeUpgrades(adminServer, adminCompat.upgrades, {
      others: 'destroy',
      dialectOf,
      guard: (req) => (isLoopbackHost(req.headers.host) ? undefined : new BeepError('forbidden_host')),
    });
    routeUpgrades(gatewayServer, gatewayCompat.upgrades, { others: 'leave', dialectOf });
    io = new SocketServer(gatewayServer, { serveClient: false, maxHttpBufferSize: DEVICE_MAX_FRAME_BYTES });
    const gatewayLog = log('gateway');
    attachDeviceNamespace(io, {
      verify: (token) => tokens.verify(token),
      delivery,
      dismiss: async (id, byDevice) => {
        const found = await dismiss(id, byDevice);
        // A captured notification is closed on the desktop it came from.
        if (found) for (const source of sources) void source.closeOnDesktop(id);
        return found;
      },
      setTopics: (deviceId, topics) => directory.setTopics(deviceId, topics),
      onAuthFailure: (code, address) => gatewayLog.warn('socket authentication failed', { code, address }),
      onError: (error, context) => gatewayLog.error('socket error', { context, error: String(error) }),
    });

    ports = {
      adminPort: await listen(adminServer, config.admin.port, config.admin.host),
      gatewayPort: await listen(gatewayServer, config.gateway.port, config.gateway.host),
    };
    writeRuntimeInfo(config.dataDir, { pid: process.pid, ...ports, caFingerprint: tls.caFingerprint, version: VERSION });
    pruneTimer = setInterval(() => {
      const cutoff = Date.now() - config.store.retentionDays * 86_400_000;
      store.prune(cutoff).catch((e) => log('store').error('retention sweep failed', { error: String(e) }));
    }, PRUNE_INTERVAL_MS);
    pruneTimer.unref();
    for (const source of sources) source.start();
    logger.info('beep is running', { ...ports, dataDir: config.dataDir, caFingerprint: tls.caFingerprint });
  }

  async function stop(): Promise<void> {
    clearInterval(pruneTimer);
    await Promise.all(sources.map((s) => s.stop()));
    ingest?.close();
    hub.closeAll();
    handshakes?.close();
    delivery?.closeAll();
    await new Promise<void>((resolve) => (io ? io.close(() => resolve()) : resolve()));
    for (const server of [adminServer, gatewayServer]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await store?.close();
    removeRuntimeInfo(config.dataDir);
  }

  return { start, stop, addresses: () => ports };
}

/** ok while every source is attached or merely absent; degraded when a configured one cannot attach. */
function sourcesHealth(sources: DesktopSource[]): CheckOutcome {
  const details = Object.fromEntries(sources.map((s) => [s.name, s.status()]));
  const failing = sources.filter((s) => s.status().expected && s.status().state === 'waiting');
  const active = ['http', ...sources.filter((s) => s.status().state === 'attached').map((s) => s.name)];
  return failing.length
    ? { status: 'degraded', reason: failing.map((s) => `${s.name}: ${s.status().reason}`).join('; '), active, ...details }
    : { status: 'ok', active, ...details };
}

function listen(server: http.Server | https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
