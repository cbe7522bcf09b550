import client from 'prom-client';
import { CountingHistogram } from './counting-histogram';

// Every metric family Beep exports, on its own registry (no global state). Label values are
// bounded: sources, error codes, priorities, route patterns — never ids or raw paths.

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];

export interface LiveGauges {
  queueDepth: () => Record<number, number>;
  connectedDevices: () => number;
  certificateExpiry: () => Date | null;
  /** The memory watch's latest sample and alarms. */
  memory: () => { rss: number; heapUsed: number; heapTotal: number; external: number } | null;
  memoryAlarms: () => { leak: boolean; soft: boolean; hard: boolean };
  /** The store's writer: writes waiting, and ms the write lock has been held by another process (0 = not). */
  writer?: () => { queued: number; lockedForMs: number } | undefined;
  /** The most notifications one device's session has held in memory at once, and the bound it is kept within. */
  deliveryBuffered?: () => { max: number; bound: number };
}

/**
 * Rate-limit scopes, pre-created at 0 so dashboards see them before the first refusal: exactly
 * the names the limiters emit (test/security/metrics-sources.test.ts hits them and checks that
 * each lands on a pre-created series). gateway_ip / token_ip: the gateway's per-address budgets;
 * blocked: an address blocked after repeated refusals; origin: a cross-origin socket handshake;
 * device / socket_flood: a device's requests and socket events; pairing_ip / pairing_code: the
 * pairing budgets; api_token / api_token_failures: an API token's requests, an address's bad
 * tokens; stream_token / stream_address: open subscriber streams.
 */
export const RATE_LIMIT_SCOPES = [
  'gateway_ip', 'token_ip', 'blocked', 'origin', 'device', 'socket_flood', 'pairing_ip', 'pairing_code',
  'api_token', 'api_token_failures', 'stream_token', 'stream_address', 'connection_count', 'connection_rate',
] as const;

/** A scope of `beep_rate_limited_total`. */
export type RateLimitScope = (typeof RATE_LIMIT_SCOPES)[number];

/** Every family, registered on a registry of its own; parts get the counters they feed. */
export class Metrics {
  readonly registry = new client.Registry();
  readonly ingested;
  readonly accepted;
  readonly rejected;
  readonly muted;
  readonly delivered;
  readonly redelivered;
  readonly deliveryLatency;
  readonly batchSize;
  readonly httpDuration;
  readonly commitDuration;
  readonly commitGroupSize;
  readonly readAcquire;
  /** Incremented by the rate limiter with one of RATE_LIMIT_SCOPES. */
  readonly rateLimited;
  readonly proxyRefused;
  readonly memoryAlarmsRaised;
  /** Every security event reported to the audit log, by event, whether or not it became an entry. */
  readonly securityEvents;
  /** Set by each listener's edge: requests whose headers were read and that are not yet answered. */
  readonly httpInFlight;
  /** Incremented by each listener's edge for every 5xx answer (requests and refused upgrades). */
  readonly httpServerErrors;
  /** Incremented when a subscriber stream (ntfy, Gotify) is closed for not reading. */
  readonly streamsStalled;
  /** Incremented by a desktop source for a record it read and could not relay (malformed toast XML, …). */
  readonly captureSkipped;

  constructor(live: LiveGauges) {
    const registers = [this.registry];
    // Standard names (process_*, nodejs_*), so community Node.js dashboards find them; Beep's own carry beep_.
    client.collectDefaultMetrics({ register: this.registry });
    this.ingested = new client.Counter({
      name: 'beep_notifications_ingested_total',
      help: 'Notifications received by source (every source: HTTP, CLI, D-Bus, macOS, ntfy, Gotify), before validation.',
      labelNames: ['source'],
      registers,
    });
    this.accepted = new client.Counter({
      name: 'beep_notifications_accepted_total',
      help: 'Notifications committed to the outbox, by source.',
      labelNames: ['source'],
      registers,
    });
    this.rejected = new client.Counter({
      name: 'beep_notifications_rejected_total',
      help: 'Notifications refused, by error code and source (every source, where ingest validates or stores).',
      labelNames: ['code', 'source'],
      registers,
    });
    this.muted = new client.Counter({
      name: 'beep_notifications_muted_total',
      help: 'Notifications a rule muted or folded (counted, never stored), by rule kind and source.',
      labelNames: ['rule', 'source'],
      registers,
    });
    this.delivered = new client.Counter({
      name: 'beep_notifications_delivered_total',
      help: 'Notification deliveries acknowledged by a device.',
      registers,
    });
    this.redelivered = new client.Counter({
      name: 'beep_notifications_redelivered_total',
      help: 'Notifications sent again after a lost or partial ack.',
      registers,
    });
    // Observed once per notification per device: counted without prom-client's per-call label work.
    this.deliveryLatency = new CountingHistogram('beep_delivery_latency_seconds', 'Time from acceptance to a device ack.', LATENCY_BUCKETS, registers);
    this.batchSize = new CountingHistogram('beep_batch_size', 'Notifications per batch sent to a device.', [1, 2, 4, 8, 16, 32, 64, 128], registers);
    this.httpDuration = new client.Histogram({
      name: 'beep_http_request_duration_seconds',
      help: 'HTTP request duration by listener, route pattern and status.',
      labelNames: ['listener', 'route', 'status'],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.commitDuration = new client.Histogram({
      name: 'beep_db_commit_duration_seconds',
      help: 'Duration of each group commit.',
      labelNames: ['outcome'],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.commitGroupSize = new client.Histogram({
      name: 'beep_db_commit_group_size',
      help: 'Writes sharing one transaction.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    });
    this.readAcquire = new client.Histogram({
      name: 'beep_db_read_acquire_seconds',
      help: 'Time a query waited for a read connection.',
      buckets: FAST_BUCKETS,
      registers,
    });
    this.rateLimited = new client.Counter({
      name: 'beep_rate_limited_total',
      help: 'Requests, handshakes and socket events refused by a rate limit, by scope.',
      labelNames: ['scope'],
      registers,
    });
    // Zero-valued series so dashboards and alerts see the family before the first event.
    for (const scope of RATE_LIMIT_SCOPES) this.rateLimited.inc({ scope }, 0);
    this.proxyRefused = new client.Counter({
      name: 'beep_proxy_protocol_refused_total',
      help: 'Gateway connections refused by the PROXY protocol front: a header from an unlisted address, a bad or missing header from a balancer.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['unlisted_sender', 'bad_header', 'header_timeout']) this.proxyRefused.inc({ reason }, 0);
    this.memoryAlarmsRaised = new client.Counter({
      name: 'beep_memory_alarms_total',
      help: 'Memory alarms raised, by kind (leak, soft_limit, hard_limit).',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['leak', 'soft_limit', 'hard_limit']) this.memoryAlarmsRaised.inc({ kind }, 0);
    this.securityEvents = new client.Counter({
      name: 'beep_security_events_total',
      help: 'Security events by kind, each request counted (the audit log aggregates failures and keeps no entry for missing credentials).',
      labelNames: ['event'],
      registers,
    });
    this.httpInFlight = new client.Gauge({
      name: 'beep_http_requests_in_flight',
      help: 'HTTP requests whose headers were read and that are not yet answered, by listener.',
      labelNames: ['listener'],
      registers,
    });
    this.httpServerErrors = new client.Counter({
      name: 'beep_http_server_errors_total',
      help: 'Answers with a 5xx status (requests and refused upgrades), by listener and status.',
      labelNames: ['listener', 'status'],
      registers,
    });
    for (const listener of ['admin', 'gateway']) {
      this.httpInFlight.set({ listener }, 0);
      this.httpServerErrors.inc({ listener, status: '500' }, 0);
    }
    this.streamsStalled = new client.Counter({
      name: 'beep_subscriber_streams_stalled_total',
      help: 'ntfy and Gotify subscriber streams closed because their reader stopped reading.',
      registers,
    });
    this.captureSkipped = new client.Counter({
      name: 'beep_capture_skipped_total',
      help: 'Desktop notifications a source read and skipped (malformed or unreadable payloads), by source and reason.',
      labelNames: ['source', 'reason'],
      registers,
    });
    new client.Gauge({
      name: 'beep_memory_bytes',
      help: 'Process memory at the last memory-watch sample, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        const m = live.memory();
        if (!m) return;
        this.set({ kind: 'rss' }, m.rss);
        this.set({ kind: 'heap_used' }, m.heapUsed);
        this.set({ kind: 'heap_total' }, m.heapTotal);
        this.set({ kind: 'external' }, m.external);
      },
    });
    new client.Gauge({
      name: 'beep_memory_alarm',
      help: '1 while a memory alarm holds, by kind (leak, soft_limit, hard_limit).',
      labelNames: ['kind'],
      registers,
      collect() {
        const a = live.memoryAlarms();
        this.set({ kind: 'leak' }, a.leak ? 1 : 0);
        this.set({ kind: 'soft_limit' }, a.soft ? 1 : 0);
        this.set({ kind: 'hard_limit' }, a.hard ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'beep_queue_depth',
      help: 'Notifications waiting to be sent to connected devices, by priority.',
      labelNames: ['priority'],
      registers,
      collect() {
        for (const [priority, n] of Object.entries(live.queueDepth())) this.set({ priority }, n);
      },
    });
    new client.Gauge({
      name: 'beep_devices_connected',
      help: 'Devices with a live socket.',
      registers,
      collect() {
        this.set(live.connectedDevices());
      },
    });
    new client.Gauge({
      name: 'beep_store_writes_queued',
      help: 'Writes waiting for the database (a group commit, or a write lock held by another process).',
      registers,
      collect() {
        this.set(live.writer?.()?.queued ?? 0);
      },
    });
    new client.Gauge({
      name: 'beep_store_lock_wait_seconds',
      help: 'How long the write lock has been held by another process while writes wait (0 = not held).',
      registers,
      collect() {
        this.set((live.writer?.()?.lockedForMs ?? 0) / 1000);
      },
    });
    new client.Gauge({
      name: 'beep_delivery_buffered_max',
      help: 'The most notifications one device\'s session has held in memory at once since start (a backlog is read a page at a time within beep_delivery_buffered_bound).',
      registers,
      collect() {
        const buffered = live.deliveryBuffered?.();
        if (buffered) this.set(buffered.max);
      },
    });
    new client.Gauge({
      name: 'beep_delivery_buffered_bound',
      help: 'Notifications one device\'s session may hold in memory (in flight plus queued).',
      registers,
      collect() {
        const buffered = live.deliveryBuffered?.();
        if (buffered) this.set(buffered.bound);
      },
    });
    new client.Gauge({
      name: 'beep_certificate_expiry_seconds',
      help: 'Seconds until the gateway certificate expires.',
      registers,
      collect() {
        const expiry = live.certificateExpiry();
        if (expiry) this.set((expiry.getTime() - Date.now()) / 1000);
      },
    });
  }
}
