import type { BeepConfig } from '../config/schema';
import type { FieldCipher } from '../crypto/field-cipher';
import { SubscriberHub } from '../compat/subscriber-hub';
import type { NotificationInput } from '../domain/notification';
import { Delivery } from '../delivery/delivery';
import { LocalRelayBus, type RelayBus } from '../delivery/relay-bus';
import { IngestService } from '../ingest/ingest-service';
import type { RulesEngine } from '../ingest/rules/rules-engine';
import type { AuditLog } from '../observability/audit-log';
import type { Logger } from '../observability/logger';
import { DELIVERY_MAX_HELD, DELIVERY_TIMER_TICK_MS, DISMISS_CATCH_UP_PAGE, FANOUT_SLICE_DEVICES, PROGRESS_SAVE_INTERVAL_MS } from '../config/defaults';
import { TimerWheel } from '../queue/timer-wheel';
import { systemTimers } from '../queue/timers';
import { SqliteDeliveryStore } from '../store/delivery-store';
import { Store } from '../store/store';
import type { LogFor, Monitoring } from './observability';

// The relay path: the SQLite store (sealed by the field cipher, commits measured), the RelayBus
// and what listens on it (delivery to devices, ntfy/Gotify subscribers, the activity feed),
// ingest with its rules, the dismiss path every source shares, the retention sweep.

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

/** What the relay hands on: the bus, delivery, the subscriber hub, ingest and the shared dismiss path. */
export interface Relay {
  bus: RelayBus;
  delivery: Delivery;
  hub: SubscriberHub;
  ingest: IngestService;
  /** Dismissed on every phone, whoever asked (a phone, or the desktop via a source). */
  dismiss(id: string, byDevice: string | null): Promise<boolean>;
}

/** Builds the bus and its listeners, and ingest; a commit publishes on the bus, nothing else. `sealer` opens backlog rows. */
export function buildRelay(config: BeepConfig, store: Store, sealer: FieldCipher, monitoring: Monitoring, engine: RulesEngine<NotificationInput>, log: LogFor): Relay {
  const { metrics, stats, feed } = monitoring;
  const bus = new LocalRelayBus((error, event) => log('relay').error('relay listener failed', { event, error: String(error) }));
  const clock = { timers: new TimerWheel(systemTimers, DELIVERY_TIMER_TICK_MS), defer: (fn: () => void) => void setImmediate(fn) };
  const options = {
    ...config.queue,
    fanOutSlice: FANOUT_SLICE_DEVICES,
    maxHeld: DELIVERY_MAX_HELD,
    saveIntervalMs: PROGRESS_SAVE_INTERVAL_MS,
    dismissPage: DISMISS_CATCH_UP_PAGE,
  };
  const deliveryStore = new SqliteDeliveryStore(store.db, store.writer, store.pool, sealer);
  const delivery = new Delivery(deliveryStore, options, clock, {
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
  const hub = new SubscriberHub();
  bus.subscribe(delivery);
  bus.subscribe(hub);
  bus.subscribe({ accepted: (n) => feed.accepted(n), dismissed: (d) => feed.dismissed(d.id, d.byDevice) });
  const ingest = new IngestService(
    store,
    (n) => void bus.accepted(n),
    {
      onIngested: (source) => metrics.ingested.inc({ source }),
      onRejected: (code, source) => metrics.rejected.inc({ code, source }),
      onAccepted: (n) => {
        metrics.accepted.inc({ source: n.source });
        stats.accepted();
      },
      onMuted: (rule, source) => metrics.muted.inc({ rule, source }),
      onError: (error, context) => log('ingest').error('ingest error', { context, error: String(error) }),
    },
    { engine, timers: { now: Date.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) } },
  );
  const dismiss = async (id: string, byDevice: string | null): Promise<boolean> => {
    const result = await store.dismiss(id, byDevice, (r) => {
      if (r) void bus.dismissed({ id, seq: r.seq, dismissalSeq: r.dismissalSeq, byDevice });
    });
    return result !== null;
  };
  return { bus, delivery, hub, ingest, dismiss };
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
