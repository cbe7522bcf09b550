import type { BeepConfig } from '../config/schema';
import type { FieldCipher } from '../crypto/field-cipher';
import type { NotificationInput, StoredNotification } from '../domain/notification';
import { Delivery } from '../gateway/delivery';
import { IngestService } from '../ingest/ingest-service';
import type { RulesEngine } from '../ingest/rules/rules-engine';
import type { AuditLog } from '../observability/audit-log';
import type { Logger } from '../observability/logger';
import { systemTimers } from '../queue/timers';
import { Store } from '../store/store';
import type { LogFor, Monitoring } from './observability';

// The relay path: the SQLite store (sealed by the field cipher, commits measured), delivery to
// devices, ingest with its rules, the dismiss path every source shares, the retention sweep.

/** ms between retention sweeps. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Opens the store; `audit` is read only when a key rotation finishes (the log is built from the store). */
export function openStore(config: BeepConfig, logger: Logger, log: LogFor, cipher: FieldCipher, monitoring: Monitoring, audit: () => AuditLog): Store {
  const { metrics } = monitoring;
  return new Store({
    sealer: cipher,
    rotationBatchSize: config.encryption.rotationBatchSize,
    rotationPauseMs: config.encryption.rotationPauseMs,
    onRotationFinished: (keyId, total) => {
      log('keys').info('data key rotation finished', { keyId, total });
      void audit().record('data_key_rotation_finished', 'system', { keyId, values: total });
    },
    onRotationError: (error) => log('keys').error('data key rotation stopped; it resumes at the next start or `beep keys rotate`', { error: String(error) }),
    onResealFinished: (converted, unreadable) =>
      log('keys').info('notifications of the four-seal format are sealed once per row now', { converted, unreadable }),
    onResealError: (error) => log('keys').warn('re-sealing notifications of the four-seal format', { error: String(error) }),
    dataDir: config.dataDir,
    durability: config.store.durability,
    groupCommitMaxOps: config.store.groupCommitMaxOps,
    groupCommitWindowMs: config.store.groupCommitWindowMs,
    readPoolSize: config.store.readPoolSize,
    readPoolIdleMs: config.store.readPoolIdleSec * 1000,
    lockWaitMs: config.store.lockWaitMs,
    maxQueuedWrites: config.store.maxQueuedWrites,
    onCheckpointError: (error) => logger.warn('WAL checkpoint failed; the next commit tries again', { component: 'store', error: String(error) }),
    maxSessionsPerDevice: config.auth.maxSessionsPerDevice,
    maxBytes: config.store.maxSizeMb ? config.store.maxSizeMb * 1024 * 1024 : undefined,
    onCommit: (seconds, size, ok) => {
      metrics.commitDuration.observe({ outcome: ok ? 'ok' : 'failed' }, seconds);
      metrics.commitGroupSize.observe(size);
      if (!ok) logger.error('group commit failed', { component: 'store', size });
    },
    onAcquire: (seconds) => metrics.readAcquire.observe(seconds),
  });
}

/** What the relay hands on: delivery, ingest and the shared dismiss path. */
export interface Relay {
  delivery: Delivery;
  ingest: IngestService;
  /** Dismissed on every phone, whoever asked (a phone, or the desktop via a source). */
  dismiss(id: string, byDevice: string | null): Promise<boolean>;
}

/** Builds delivery and ingest; an accepted notification goes to devices and to `alsoAccepted` (compat subscribers). */
export function buildRelay(
  config: BeepConfig,
  store: Store,
  monitoring: Monitoring,
  engine: RulesEngine<NotificationInput>,
  alsoAccepted: (n: StoredNotification) => void,
  log: LogFor,
): Relay {
  const { metrics, stats, feed } = monitoring;
  const delivery = new Delivery(store, config.queue, systemTimers, {
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
  const ingest = new IngestService(
    store,
    (n) => {
      delivery.accepted(n);
      alsoAccepted(n);
    },
    {
      onIngested: (source) => metrics.ingested.inc({ source }),
      onRejected: (code, source) => metrics.rejected.inc({ code, source }),
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
  const dismiss = async (id: string, byDevice: string | null): Promise<boolean> => {
    const result = await store.dismiss(id, byDevice, (r) => {
      if (r) delivery.dismissed(id, r.seq, r.dismissalSeq, byDevice);
      if (r) feed.dismissed(id, byDevice);
    });
    return result !== null;
  };
  return { delivery, ingest, dismiss };
}

/** Sweeps notifications older than `store.retentionDays` hourly; returns the stop. */
export function startPruning(config: BeepConfig, store: Store, log: LogFor): () => void {
  const timer = setInterval(() => {
    const cutoff = Date.now() - config.store.retentionDays * 86_400_000;
    store.prune(cutoff).catch((e) => log('store').error('retention sweep failed', { error: String(e) }));
  }, PRUNE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
