import type { BeepConfig } from '../config/schema';
import { STATS_SPAN_SEC } from '../config/defaults';
import type { TlsMaterial } from '../crypto/certificates';
import { buildHealthChecks, sourcesHealth } from '../daemon-health';
import { ActivityFeed } from '../dashboard/activity-feed';
import { DashboardSessions } from '../dashboard/dashboard-sessions';
import { StatsHistory } from '../dashboard/stats-history';
import type { Delivery } from '../delivery/delivery';
import path from 'node:path';
import type { FailureBudget } from '../auth/failure-limiter';
import { FileTotpSteps, type TotpSteps } from '../auth/totp-steps';
import type { SessionLookup } from '../http/admin-auth';
import type { DashboardSessionPort } from '../http/routes/dashboard-routes';
import type { AuditLog } from '../observability/audit-log';
import type { Check, HealthChecks } from '../observability/health';
import type { Logger } from '../observability/logger';
import { MemoryWatch } from '../observability/memory-watch';
import { Metrics } from '../observability/metrics';
import type { DesktopSource } from '../sources/source';
import type { AdminCredentials } from '../store/admin-credential-store';
import type { DatabaseHealth } from '../daemon-health';

// What the daemon reports about itself: memory watch, metrics, the dashboard's stats ring and
// activity feed, health checks, dashboard sessions. Built by daemon.ts.

/** A child logger for one component; every builder logs through it. */
export type LogFor = (component: string) => Logger;

const MB = 1024 * 1024;

/** Live values read at scrape time from parts built later (the closures resolve then). */
export interface MonitoringLive {
  delivery: () => Delivery | undefined;
  tls: () => TlsMaterial;
  /** A device's name for the live feed (looked up in the store). */
  deviceName: (deviceId: string) => Promise<string>;
  /** The store's writer state, read at scrape time. */
  writer?: () => { queued: number; lockedForMs: number } | undefined;
}

/** The monitoring parts, with start/stop for the memory sampler and the stats tick. */
export interface Monitoring {
  watch: MemoryWatch;
  metrics: Metrics;
  stats: StatsHistory;
  feed: ActivityFeed;
  start(): void;
  stop(): void;
}

/** Builds the memory watch, metrics registry, stats ring and activity feed. */
export function buildMonitoring(config: BeepConfig, log: LogFor, live: MonitoringLive): Monitoring {
  const memoryLog = log('memory');
  const watch = new MemoryWatch(
    {
      sampleIntervalMs: config.memory.sampleIntervalMs,
      softLimitBytes: config.memory.softLimitMb * MB,
      hardLimitBytes: config.memory.hardLimitMb * MB,
      leakGrowthBytes: config.memory.leakGrowthMb * MB,
      load: () => {
        const delivery = live.delivery();
        return delivery ? delivery.connected + delivery.held : 0;
      },
    },
    {
      onAlarm: (kind, details) => {
        metrics.memoryAlarmsRaised.inc({ kind });
        memoryLog.log(kind === 'hard_limit' ? 'error' : 'warn', `memory alarm: ${kind.replace('_', ' ')}`, details);
      },
      onClear: (kind, details) => memoryLog.info(`memory alarm cleared: ${kind.replace('_', ' ')}`, details),
    },
  );
  const metrics = new Metrics({
    queueDepth: () => live.delivery()?.depthByPriority() ?? {},
    connectedDevices: () => live.delivery()?.connected ?? 0,
    deliveryBuffered: () => {
      const delivery = live.delivery();
      return delivery ? { max: delivery.bufferedMax, bound: delivery.bufferBound } : { max: 0, bound: 0 };
    },
    certificateExpiry: () => live.tls().notAfter,
    memory: () => watch.current(),
    memoryAlarms: () => watch.alarms(),
    writer: live.writer,
  });
  const stats = new StatsHistory(Math.ceil(STATS_SPAN_SEC / config.dashboard.statsIntervalSec), {
    queueDepth: () => Object.values(live.delivery()?.depthByPriority() ?? {}).reduce((a, b) => a + b, 0),
    memory: () => watch.current(),
  });
  const feed = new ActivityFeed(live.deviceName, config.dashboard.feedDevicesListed);
  let statsTimer: NodeJS.Timeout | undefined;
  return {
    watch,
    metrics,
    stats,
    feed,
    start: () => {
      watch.start();
      statsTimer = setInterval(() => stats.tick(Date.now()), config.dashboard.statsIntervalSec * 1000);
      statsTimer.unref();
    },
    stop: () => {
      clearInterval(statsTimer);
      watch.stop();
      feed.stop();
    },
  };
}

/** The /health/detailed checks over the store, delivery, certificate, memory and sources. */
export function buildHealth(
  config: BeepConfig,
  store: DatabaseHealth,
  watch: MemoryWatch,
  live: { delivery: () => Delivery; tls: () => TlsMaterial; sources: () => DesktopSource[] },
  /** More checks by name (cluster mode: `redis`). */
  extra?: Record<string, Check>,
): HealthChecks {
  return buildHealthChecks({
    extra,
    store,
    delivery: live.delivery,
    tls: live.tls,
    memory: watch,
    sources: () => sourcesHealth(live.sources()),
    timeoutMs: config.health.checkTimeoutMs,
    cacheTtlMs: config.health.cacheTtlMs,
  });
}

/** The stored dashboard password and TOTP secret. */
export interface AdminCredentialPort {
  adminCredentials(): Promise<AdminCredentials | undefined>;
  setAdminCredentials(passwordHash: string, totpSecret: string | null): Promise<void>;
}

/** Cluster mode's dashboard sessions and TOTP steps (on Redis); embedded mode keeps them in memory and a file. */
export interface SharedDashboard {
  sessions: DashboardSessionPort & SessionLookup & { open(): Promise<{ sessionId: string }>; endAll(): Promise<void> };
  totpSteps: TotpSteps;
}

/** The dashboard's sessions, feed and stats, its password (+TOTP) login, audited, and the password store that ends sessions. */
export function buildDashboard(config: BeepConfig, store: AdminCredentialPort, audit: AuditLog, monitoring: Monitoring, limiter: FailureBudget, gatewayUrl?: () => string, shared?: SharedDashboard) {
  const dashboard = {
    sessions: shared?.sessions ?? new DashboardSessions({ loginTtlSec: config.dashboard.loginTtlSec, sessionIdleSec: config.dashboard.sessionIdleSec }),
    feed: monitoring.feed,
    stats: monitoring.stats,
    statsIntervalSec: config.dashboard.statsIntervalSec,
    gatewayUrl,
  };
  const passwordLogin = {
    sessions: dashboard.sessions,
    credentials: () => store.adminCredentials(),
    limiter,
    totpSteps: shared?.totpSteps ?? new FileTotpSteps(path.join(config.dataDir, 'totp-step.json')),
    onLogin: (address: string) => void audit.record('dashboard_login', `ip:${address}`, { method: 'password' }),
    onFailure: (address: string, reason: string) =>
      void audit.record('auth_failed', `ip:${address}`, { channel: 'dashboard', code: 'invalid_credentials', reason }),
  };
  // A new password (or TOTP secret) ends every dashboard session and closes their live feeds.
  const credentials = {
    setAdminCredentials: async (passwordHash: string, totpSecret: string | null) => {
      await store.setAdminCredentials(passwordHash, totpSecret);
      await dashboard.sessions.endAll();
    },
  };
  return { dashboard, passwordLogin, credentials };
}
