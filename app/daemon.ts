import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server as SocketServer } from 'socket.io';
import { MemoryRateLimiter, MemoryViolationBlocker } from './auth/rate-limiter';
import { EventThrottle } from './gateway/event-throttle';
import { createSocketServer } from './gateway/socket-server';
import { clientIp } from './http/rate-limit';
import type { BeepConfig } from './config/schema';
import { defaultNames, loadOrCreateCertificates, type TlsMaterial } from './crypto/certificates';
import { CertificateRenewer } from './crypto/certificate-renewer';
import { ADDRESS_POLL_MS, CERT_CHECK_INTERVAL_MS, SOCKET_AUTH_TIMEOUT_MS } from './config/defaults';
import { MemoryAttemptLimiter } from './auth/failure-limiter';
import { SigningKeyRing } from './auth/signing-keys';
import { AuditLog } from './observability/audit-log';
import { FieldCipher, newDataKey } from './crypto/field-cipher';
import { loadOrCreateMasterKey } from './crypto/master-key';
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
import { ActivityFeed } from './dashboard/activity-feed';
import { DashboardSessions } from './dashboard/dashboard-sessions';
import { StatsHistory } from './dashboard/stats-history';
import { buildHealthChecks, sourcesHealth } from './daemon-health';
import { LeakInjector } from './observability/leak-injector';
import type { LogContext } from './observability/log-context';
import type { Logger } from './observability/logger';
import { MemoryWatch } from './observability/memory-watch';
import { Metrics } from './observability/metrics';
import { PairingService } from './pairing/pairing-service';
import { systemTimers } from './queue/timers';
import { STATS_SPAN_SEC } from './config/defaults';
import { Store } from './store/store';
import { VERSION } from './version';
import { isLoopbackHost } from './http/admin-auth';
import { BeepError } from './domain/errors';
import { ApiTokenService } from './compat/api-tokens';
import type { AuditSink } from './compat/audit-sink';
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
/** ms between checks whether the token signing key is due for rotation. */
const SIGNING_KEY_CHECK_MS = 60 * 60 * 1000;
/** seconds a retired signing key verifies beyond the token lifetime: tolerated clock skew. */
const CLOCK_SKEW_SEC = 60;

/** Records `config_changed` when the effective configuration differs from the last run's. */
async function recordConfigChange(config: BeepConfig, store: Store, audit: AuditLog): Promise<void> {
  const { encryption, ...rest } = config;
  // A fingerprint of the settings, never their secret values (the passphrase is only flagged).
  const shown = { ...rest, encryption: { ...encryption, passphrase: encryption.passphrase ? 'set' : null } };
  const fingerprint = crypto.createHash('sha256').update(JSON.stringify(shown)).digest('hex');
  const last = store.lastAuditDetails('config_changed');
  if (last?.fingerprint === fingerprint) return;
  const before = (last?.settings ?? {}) as Record<string, unknown>;
  const now = flatten(shown);
  const changed = Object.keys(now).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  await audit.record('config_changed', 'system', { fingerprint, changed: last ? changed : ['(first start)'], settings: now });
}

function flatten(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}


function lanAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const MB = 1024 * 1024;

export function createDaemon(config: BeepConfig, logger: Logger, context?: LogContext): Daemon {
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
  let statsTimer: NodeJS.Timeout | undefined;
  let memory: MemoryWatch | undefined;
  let renewer: CertificateRenewer | undefined;
  let signingKeyTimer: NodeJS.Timeout | undefined;
  let ports = { gatewayPort: 0, adminPort: 0 };

  async function start(): Promise<void> {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const adminToken = loadOrCreateAdminToken(config.dataDir);
    const loadTls = (force: boolean) =>
      loadOrCreateCertificates({ dir: config.tls.certDir, renewBeforeDays: config.tls.renewBeforeDays, force });
    tls = await loadTls(false);
    const tlsOptions = (m: TlsMaterial) => ({ cert: m.certPem, key: m.keyPem, ca: m.caCertPem, minVersion: config.tls.minVersion });
    const signingKeys = new SigningKeyRing(path.join(config.dataDir, 'keys'), {
      rotationDays: config.auth.signingKeyRotationDays,
      retainMs: (config.auth.accessTokenTtlSec + CLOCK_SKEW_SEC) * 1000,
    });

    const log = (component: string) => logger.child({ component });
    const memoryLog = log('memory');
    const watch = new MemoryWatch(
      {
        sampleIntervalMs: config.memory.sampleIntervalMs,
        softLimitBytes: config.memory.softLimitMb * MB,
        hardLimitBytes: config.memory.hardLimitMb * MB,
        leakGrowthBytes: config.memory.leakGrowthMb * MB,
      },
      {
        onAlarm: (kind, details) => {
          metrics.memoryAlarmsRaised.inc({ kind });
          memoryLog.log(kind === 'hard_limit' ? 'error' : 'warn', `memory alarm: ${kind.replace('_', ' ')}`, details);
        },
        onClear: (kind, details) => memoryLog.info(`memory alarm cleared: ${kind.replace('_', ' ')}`, details),
      },
    );
    memory = watch;
    // Metrics read live values from parts built below; the closures resolve at scrape time.
    const metrics = new Metrics({
      queueDepth: () => delivery?.depthByPriority() ?? {},
      connectedDevices: () => delivery?.connected ?? 0,
      certificateExpiry: () => tls.notAfter,
      memory: () => watch.current(),
      memoryAlarms: () => watch.alarms(),
    });
    const stats = new StatsHistory(Math.ceil(STATS_SPAN_SEC / config.dashboard.statsIntervalSec), {
      queueDepth: () => Object.values(delivery?.depthByPriority() ?? {}).reduce((a, b) => a + b, 0),
      memory: () => watch.current(),
    });
    const master = loadOrCreateMasterKey(path.join(config.dataDir, 'keys'), config.encryption.passphrase);
    const cipher = new FieldCipher();
    store = new Store({
      sealer: cipher,
      rotationBatchSize: config.encryption.rotationBatchSize,
      rotationPauseMs: config.encryption.rotationPauseMs,
      onRotationFinished: (keyId, total) => {
        log('keys').info('data key rotation finished', { keyId, total });
        void audit.record('data_key_rotation_finished', 'system', { keyId, values: total });
      },
      onRotationError: (error) => log('keys').error('data key rotation stopped; it resumes at the next start or `beep keys rotate`', { error: String(error) }),
      dataDir: config.dataDir,
      durability: config.store.durability,
      groupCommitMaxOps: config.store.groupCommitMaxOps,
      groupCommitWindowMs: config.store.groupCommitWindowMs,
      readPoolSize: config.store.readPoolSize,
      maxSessionsPerDevice: config.auth.maxSessionsPerDevice,
      maxBytes: config.store.maxSizeMb ? config.store.maxSizeMb * 1024 * 1024 : undefined,
      onCommit: (seconds, size, ok) => {
        metrics.commitDuration.observe({ outcome: ok ? 'ok' : 'failed' }, seconds);
        metrics.commitGroupSize.observe(size);
        if (!ok) logger.error('group commit failed', { component: 'store', size });
      },
      onAcquire: (seconds) => metrics.readAcquire.observe(seconds),
    });

    const stored = store.dataKeys();
    if (stored.length === 0) {
      const first = newDataKey(master);
      store.insertDataKey(first.id, first.wrapped);
      stored.push(first);
    }
    cipher.load(master, stored);
    const audit = new AuditLog(store, (e) => log('audit').error('audit append failed', { error: String(e) }));
    store.keyRotation.resume();
    const keys = {
      progress: () => store.keyRotation.progress(),
      rotate: async () => {
        const started = !store.keyRotation.progress().running;
        const key = newDataKey(master);
        const progress = await store.keyRotation.start(key, () => cipher.add(master, key));
        if (started) void audit.record('data_key_rotation_started', 'admin', { keyId: progress.keyId, values: progress.total });
        return { started, progress };
      },
    };
    await recordConfigChange(config, store, audit);
    const feed = new ActivityFeed((id) => store.device(id)?.name ?? id.slice(0, 8));
    delivery = new Delivery(store, config.queue, systemTimers, {
      onBatch: (size, redelivered) => {
        metrics.batchSize.observe(size);
        if (redelivered > 0) metrics.redelivered.inc(redelivered);
      },
      onDelivered: (latencies) => {
        metrics.delivered.inc(latencies.length);
        for (const l of latencies) metrics.deliveryLatency.observe(l);
        stats.delivered(latencies);
      },
      onSent: (deviceId, ids) => feed.sent(deviceId, ids),
      onAcked: (deviceId, ids) => feed.acked(deviceId, ids),
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
        onAccepted: (n) => {
          metrics.accepted.inc({ source: n.source });
          stats.accepted();
          feed.accepted(n);
        },
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
    const limits = {
      perIp: new MemoryRateLimiter(config.rateLimits.gatewayPerIpPerMin, 60),
      perDevice: new MemoryRateLimiter(config.rateLimits.devicePerMin, 60),
      tokenPerIp: new MemoryRateLimiter(config.rateLimits.tokenPerIpPerMin, 60),
      blocker: new MemoryViolationBlocker(config.rateLimits.blockAfterViolations, config.rateLimits.blockDurationSec),
      hops: config.gateway.trustProxyHops,
    };
    const limitHooks = {
      onLimited: (scope: string) => metrics.rateLimited.inc({ scope }),
      onBlocked: (ip: string) => {
        log('gateway').warn('address blocked after repeated refusals', { ip, seconds: config.rateLimits.blockDurationSec });
        void audit.record('ip_blocked', `ip:${ip}`, { seconds: config.rateLimits.blockDurationSec });
      },
    };
    const tokens = new TokenService(signingKeys, store, config.auth.accessTokenTtlSec);
    const rotateSigningKey = () => {
      const rotated = signingKeys.rotateIfDue();
      if (rotated) void audit.record('signing_key_rotated', 'system', { kid: rotated.kid, verifying: signingKeys.kids() });
    };
    rotateSigningKey();
    signingKeyTimer = setInterval(rotateSigningKey, SIGNING_KEY_CHECK_MS);
    signingKeyTimer.unref();
    const pairingLog = log('pairing');
    const pairing = new PairingService(
      store,
      tokens,
      {
        perIp: new MemoryAttemptLimiter(config.rateLimits.pairingAttempts, config.rateLimits.pairingWindowSec),
        perCode: new MemoryAttemptLimiter(config.rateLimits.pairingAttemptsPerCode, config.rateLimits.pairingWindowSec),
      },
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
        onPaired: (d, ip) => {
          pairingLog.info('device paired', { deviceId: d.id, platform: d.platform });
          void audit.record('device_paired', `ip:${ip}`, { deviceId: d.id, platform: d.platform });
        },
        onFailedAttempt: (ip) => {
          pairingLog.warn('failed pairing attempt', { ip });
          void audit.record('pairing_failed', `ip:${ip}`, { reason: 'pairing_code_invalid' });
        },
        onLockedOut: (scope, ip) => {
          pairingLog.warn('pairing locked out', { scope, ip });
          void audit.record('pairing_locked_out', `ip:${ip}`, { scope, windowSec: config.rateLimits.pairingWindowSec });
        },
        onRefused: (scope) => metrics.rateLimited.inc({ scope: `pairing_${scope}` }),
        onRefreshReuse: (deviceId) => {
          pairingLog.warn('refresh token reused; device signed out', { deviceId });
          void audit.record('refresh_token_reused', `device:${deviceId}`, { deviceId, action: 'family revoked, tokens invalidated' });
          delivery.revoke(deviceId);
        },
      },
    );
    const directory = new DeviceDirectory(store, delivery, (id) => {
      log('devices').info('device revoked', { deviceId: id });
      void audit.record('device_revoked', 'admin', { deviceId: id });
    });
    const health = buildHealthChecks({
      store,
      delivery: () => delivery,
      tls: () => tls,
      memory: watch,
      sources: () => sourcesHealth(sources),
      timeoutMs: config.health.checkTimeoutMs,
      cacheTtlMs: config.health.cacheTtlMs,
    });
    const dashboard = {
      sessions: new DashboardSessions({ loginTtlSec: config.dashboard.loginTtlSec, sessionIdleSec: config.dashboard.sessionIdleSec }),
      feed,
      stats,
      statsIntervalSec: config.dashboard.statsIntervalSec,
    };
    const passwordLogin = {
      sessions: dashboard.sessions,
      credentials: () => store.adminCredentials(),
      limiter: new MemoryAttemptLimiter(config.rateLimits.pairingAttempts, config.rateLimits.pairingWindowSec),
      onLogin: (address: string) => void audit.record('dashboard_login', `ip:${address}`, { method: 'password' }),
      onFailure: (address: string, reason: string) =>
        void audit.record('auth_failed', `ip:${address}`, { channel: 'dashboard', code: 'invalid_credentials', reason }),
    };
    if (config.diagnostics.leakInjection) log('diagnostics').warn('diagnostic leak injection is enabled (diagnostics.leakInjection)');

    const certLog = log('certificates');
    renewer = new CertificateRenewer(
      tls,
      {
        load: loadTls,
        apply: (m) => {
          gatewayServer.setSecureContext(tlsOptions(m));
          tls = m;
        },
        addresses: () => defaultNames().addresses,
        setInterval: (fn, ms) => setInterval(fn, ms),
        clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
        onRenewed: (m, reason) => {
          certLog.info('server certificate renewed', { reason, notAfter: m.notAfter.toISOString() });
          void audit.record('certificate_renewed', reason === 'forced' ? 'admin' : 'system', { reason, notAfter: m.notAfter.toISOString() });
        },
        onError: (error) => certLog.error('certificate check failed', { error: String(error) }),
      },
      { checkEveryMs: CERT_CHECK_INTERVAL_MS, addressPollMs: ADDRESS_POLL_MS },
    );

    // ntfy and Gotify: API tokens, the live fan-out, and one set of routes per listener.
    // Their audit events go to the hash-chained log; the actor is the token, else the address.
    const compatAudit: AuditSink = {
      record: (event, fields) => {
        const actor = typeof fields.tokenId === 'number' ? `token:${fields.tokenId}` : typeof fields.ip === 'string' ? `ip:${fields.ip}` : 'admin';
        void audit.record(event, actor, fields);
      },
    };
    const apiTokens = new ApiTokenService(
      store,
      new MemoryAttemptLimiter(config.compat.tokenFailures, config.compat.tokenFailureWindowSec),
      new MemoryRateLimiter(config.compat.tokenRequestsPerMinute, 60),
      compatAudit,
      Date.now,
      (scope) => metrics.rateLimited.inc({ scope }),
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
        token: adminToken,
        certificates: renewer,
        audit,
        keys,
        credentials: store,
        ingest: ingestService,
        rules: rulesAdmin,
        history: store,
        pairing,
        directory,
        health,
        metrics,
        logger: log('admin'),
        context,
        dashboard,
        passwordLogin,
        leakInjector: config.diagnostics.leakInjection ? new LeakInjector() : undefined,
        tokens: apiTokens,
        compat: adminCompat.routers,
      }),
    );
    gatewayServer = https.createServer(
      tlsOptions(tls),
      createGatewayApp({
        pairing,
        caCertPem: () => tls.caCertPem,
        unpair: { verify: (token) => tokens.verify(token), revoke: (id) => directory.revoke(id) },
        metrics,
        logger: log('gateway'),
        context,
        limits: { ...limits, hooks: limitHooks },
        compat: gatewayCompat.routers,
      }),
    );
    const dialectOf = (url: URL) => (url.pathname === '/stream' ? 'gotify' : 'ntfy') as 'gotify' | 'ntfy';
    routeUpgrades(adminServer, adminCompat.upgrades, {
      others: 'destroy',
      dialectOf,
      guard: async (req) => (isLoopbackHost(req.headers.host) ? undefined : new BeepError('forbidden_host')),
    });
    // The gateway's WebSocket upgrades spend the same per-IP budget as its HTTP requests.
    routeUpgrades(gatewayServer, gatewayCompat.upgrades, {
      others: 'leave',
      dialectOf,
      foreign: (url) => url.pathname.startsWith('/socket.io/'),
      guard: async (req) => {
        const ip = clientIp(req, limits.hops);
        const blockedFor = await limits.blocker.blockedFor(ip);
        if (blockedFor > 0) return limitHooks.onLimited('blocked'), new BeepError('ip_blocked', undefined, { retryAfter: blockedFor });
        const decision = await limits.perIp.consume(ip);
        if (decision.allowed) return undefined;
        limitHooks.onLimited('gateway_ip');
        return new BeepError('rate_limited', undefined, { retryAfter: decision.resetSec });
      },
    });
    const addressOf = (req: http.IncomingMessage) => clientIp(req, config.gateway.trustProxyHops);
    io = createSocketServer(gatewayServer, {
      maxBatch: config.queue.maxBatch,
      authTimeoutMs: SOCKET_AUTH_TIMEOUT_MS,
      perIp: limits.perIp,
      blocker: limits.blocker,
      addressOf,
      onRefused: (reason) => metrics.rateLimited.inc({ scope: reason === 'origin' ? 'origin' : reason }),
      onBlocked: limitHooks.onBlocked,
    });
    const gatewayLog = log('gateway');
    const rl = config.rateLimits;
    attachDeviceNamespace(io, {
      verify: (token) => tokens.verify(token),
      throttle: () =>
        new EventThrottle({ ratePerSec: rl.socketEventsPerSec, burst: rl.socketEventBurst, disconnectAfter: rl.socketFloodDisconnectAfter }, Date.now),
      perDevice: limits.perDevice,
      addressOf: (socket) => addressOf(socket.request),
      onLimited: (scope) => metrics.rateLimited.inc({ scope }),
      onFloodDisconnect: (deviceId, address) => {
        gatewayLog.warn('socket flooded events; disconnected', { deviceId, address });
        void audit.record('socket_flood', `device:${deviceId}`, { deviceId, address });
      },
      delivery,
      dismiss: async (id, byDevice) => {
        const found = await dismiss(id, byDevice);
        // A captured notification is closed on the desktop it came from.
        if (found) for (const source of sources) void source.closeOnDesktop(id);
        return found;
      },
      setTopics: (deviceId, topics) => directory.setTopics(deviceId, topics),
      onAuthFailure: (code, address) => {
        gatewayLog.warn('socket authentication failed', { code, address });
        void audit.record('auth_failed', `ip:${address}`, { channel: 'socket', code });
      },
      onError: (error, where) => gatewayLog.error('socket error', { context: where, error: String(error) }),
      runEvent: context ? (fn) => context.event(fn) : undefined,
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
    watch.start();
    statsTimer = setInterval(() => stats.tick(Date.now()), config.dashboard.statsIntervalSec * 1000);
    statsTimer.unref();
    renewer.start();
    logger.info('beep is running', { ...ports, dataDir: config.dataDir, caFingerprint: tls.caFingerprint });
  }

  async function stop(): Promise<void> {
    clearInterval(pruneTimer);
    await Promise.all(sources.map((s) => s.stop()));
    ingest?.close();
    hub.closeAll();
    handshakes?.close();
    clearInterval(statsTimer);
    memory?.stop();
    renewer?.stop();
    clearInterval(signingKeyTimer);
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

function listen(server: http.Server | https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
