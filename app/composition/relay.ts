import type { BeepConfig } from '../config/schema';
import { SubscriberHub } from '../compat/subscriber-hub';
import type { Attachment, NotificationInput } from '../domain/notification';
import { Delivery } from '../delivery/delivery';
import type { DeliveryStore } from '../delivery/ports';
import { LocalRelayBus, type RelayBus } from '../delivery/relay-bus';
import { IngestService, type Outbox } from '../ingest/ingest-service';
import type { RulesEngine } from '../ingest/rules/rules-engine';
import { Scheduler, type ScheduleStore } from '../schedule/scheduler';
import { SCHEDULE_RELEASE_PAGE, SCHEDULE_RETRY_MS } from '../config/defaults';
import { DELIVERY_MAX_HELD, DELIVERY_TIMER_TICK_MS, DISMISS_CATCH_UP_PAGE, FANOUT_SLICE_DEVICES, PROGRESS_SAVE_CHUNK_DEVICES, PROGRESS_SAVE_INTERVAL_MS } from '../config/defaults';
import { TimerWheel } from '../queue/timer-wheel';
import { systemTimers } from '../queue/timers';
import type { LogFor, Monitoring } from './observability';

// The relay path: the RelayBus and what listens on it (delivery to devices, ntfy/Gotify
// subscribers, the activity feed), ingest with its rules, the dismiss path every source shares,
// the retention sweep. The store is opened by composition/store.ts; this gets its adapters.

/** ms between retention sweeps. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** What the relay hands on: the bus, delivery, the subscriber hub, ingest and the shared dismiss path. */
export interface Relay {
  bus: RelayBus;
  delivery: Delivery;
  hub: SubscriberHub;
  ingest: IngestService;
  /** Scheduled delivery: holds notifications until due (started once the daemon listens). */
  scheduler: Scheduler;
  /** Dismissed on every phone, whoever asked (a phone, or the desktop via a source). */
  dismiss(id: string, byDevice: string | null): Promise<boolean>;
}

/** The store's half of the shared dismiss path: marks it dismissed once (null when unknown or already); `afterCommit` runs in commit order. */
export interface DismissStore {
  dismiss(id: string, byDevice: string | null, afterCommit?: (r: { seq: number; dismissalSeq: number } | null) => void): Promise<{ seq: number; dismissalSeq: number } | null>;
}

/** What the relay stores through: the outbox (appends, client ids, dismissals) and delivery's progress and backlog. */
export interface RelayStorage {
  outbox: Outbox & DismissStore;
  delivery: DeliveryStore;
  scheduled: ScheduleStore;
}

/** Builds the bus and its listeners, and ingest; a commit publishes on the bus, nothing else. */
export function buildRelay(
  config: BeepConfig,
  store: RelayStorage,
  monitoring: Monitoring,
  engine: RulesEngine<NotificationInput>,
  log: LogFor,
  /** Signs stored attachments' links on what devices are sent (attachments/attachment-links.ts). */
  links?: { pathOf(a: Attachment): string | null },
  /**
   * Cluster mode (composition/cluster.ts): `wrapBus` wraps the local bus (a commit then publishes
   * nothing, the outbox reader does, in seq order); `connectedDevices` are the cluster's, which a
   * `Cache: no` notification is owed to.
   */
  cluster?: { wrapBus: (local: RelayBus) => RelayBus; connectedDevices: () => string[] },
): Relay {
  const wrapBus = cluster?.wrapBus;
  const { metrics, stats, feed } = monitoring;
  const local = new LocalRelayBus((error, event) => log('relay').error('relay listener failed', { event, error: String(error) }));
  const bus = wrapBus ? wrapBus(local) : local;
  const clock = { timers: new TimerWheel(systemTimers, DELIVERY_TIMER_TICK_MS), defer: (fn: () => void) => void setImmediate(fn) };
  const options = {
    ...config.queue,
    fanOutSlice: FANOUT_SLICE_DEVICES,
    maxHeld: DELIVERY_MAX_HELD,
    saveIntervalMs: PROGRESS_SAVE_INTERVAL_MS,
    saveChunkDevices: PROGRESS_SAVE_CHUNK_DEVICES,
    dismissPage: DISMISS_CATCH_UP_PAGE,
    link: links ? (a: Attachment) => links.pathOf(a) : undefined,
  };
  const delivery = new Delivery(store.delivery, options, clock, {
    onBatch: (size, redelivered) => {
      metrics.batchSize.observe(size);
      if (redelivered > 0) metrics.redelivered.inc(redelivered);
    },
    onDelivered: (items, nowMs) => {
      const latencies = items.map((item) => Math.max(0, nowMs - item.acceptedAtMs) / 1000);
      metrics.delivered.inc(latencies.length);
      metrics.deliveryLatency.observeAll(latencies);
      stats.delivered(latencies);
    },
    onSent: (deviceId, items) => feed.sent(deviceId, items),
    onAcked: (deviceId, items) => feed.acked(deviceId, items),
    onError: (error, context) => log('delivery').error('delivery error', { context, error: String(error) }),
  });
  const hub = new SubscriberHub();
  bus.subscribe(delivery);
  bus.subscribe(hub);
  bus.subscribe({ accepted: (n) => feed.accepted(n), dismissed: (d) => feed.dismissed(d.id, d.byDevice) });
  const scheduler: Scheduler = new Scheduler(store.scheduled, (input): Promise<unknown> => ingest.release(input), { now: Date.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) }, {
    retryMs: SCHEDULE_RETRY_MS,
    page: SCHEDULE_RELEASE_PAGE,
    onError: (error, context) => log('schedule').error('scheduled delivery error', { context, error: String(error) }),
  });
  // A revoked API token's scheduled notifications are dropped.
  bus.subscribe(scheduler);
  const ingest: IngestService = new IngestService(
    store.outbox,
    wrapBus ? () => undefined : (n) => void bus.accepted(n),
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
    { later: scheduler, connectedDevices: cluster ? cluster.connectedDevices : () => delivery.connectedIds() },
  );
  const dismiss = async (id: string, byDevice: string | null): Promise<boolean> => {
    const result = await store.outbox.dismiss(id, byDevice, (r) => {
      if (r) void bus.dismissed({ id, seq: r.seq, dismissalSeq: r.dismissalSeq, byDevice });
    });
    return result !== null;
  };
  return { bus, delivery, hub, ingest, scheduler, dismiss };
}

/** Sweeps notifications older than `store.retentionDays` hourly; returns the stop. */
export function startPruning(config: BeepConfig, store: { prune(cutoffMs: number): Promise<number> }, log: LogFor): () => void {
  const timer = setInterval(() => {
    const cutoff = Date.now() - config.store.retentionDays * 86_400_000;
    store.prune(cutoff).catch((e) => log('store').error('retention sweep failed', { error: String(e) }));
  }, PRUNE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
