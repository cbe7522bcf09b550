import { createAdapter } from '@socket.io/redis-streams-adapter';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { storeLimiters, type LimiterFactory } from '../auth/limiter-factory';
import { LeaseKeeper } from '../cluster/cluster-lease-keeper';
import { ClusterRelayBus } from '../cluster/cluster-relay-bus';
import { ControlChannel, type ControlTransport } from '../cluster/control-channel';
import { DeviceLeases } from '../cluster/device-leases';
import { loadOrCreateNodeId } from '../cluster/node-id';
import { NodeRegistry, type NodeRecord } from '../cluster/node-registry';
import { OutboxReader } from '../cluster/outbox-reader';
import { checkDurability } from '../cluster/redis-checks';
import { openRedis, type RedisConnection } from '../cluster/redis-connection';
import { RedisDeliveryStore } from '../cluster/redis-delivery-store';
import { RedisKeys } from '../cluster/redis-keys';
import { RedisOutbox } from '../cluster/redis-outbox';
import { RedisAdminCredentials } from '../cluster/redis-admin-credentials';
import { RedisApiTokens } from '../cluster/redis-api-tokens';
import { RedisDashboardSessions } from '../cluster/redis-dashboard-sessions';
import { RedisDesktopIds } from '../cluster/redis-desktop-ids';
import { RedisDeviceAccounts } from '../cluster/redis-device-accounts';
import { RedisDeviceAdmin } from '../cluster/redis-device-admin';
import { RedisTotpSteps } from '../cluster/redis-totp-steps';
import { RedisRetention } from '../cluster/redis-retention';
import { RedisAuditStore } from '../cluster/redis-audit-store';
import { RedisNotificationHistory } from '../cluster/redis-notification-history';
import { RedisScheduleStore } from '../cluster/redis-schedule-store';
import { RedisTopicHistory } from '../cluster/redis-topic-history';
import type { SigningKey } from '../auth/signing-keys';
import type { FieldCipher } from '../crypto/field-cipher';
import type { RedisDataKeys } from '../cluster/redis-data-keys';
import type { AuditKey } from '../domain/audit-chain';
import { openClusterTrust, type ClusterTrust } from './cluster-trust';
import {
  DASHBOARD_SESSION_SWEEP_MS,
  REDIS_HISTORY_SCAN_PAGE,
  REDIS_TRIM_BATCH,
  SCHEDULE_CLAIM_MS,
  TRUST_REFRESH_MS,
  DEVICE_LEASE_TTL_MS,
  NODE_HEARTBEAT_MS,
  NODE_HEARTBEAT_TTL_MS,
  REDIS_ADAPTER_BLOCK_MS,
  REDIS_ADAPTER_MAX_LEN,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_MAX_RETRIES_PER_REQUEST,
  REDIS_READ_BLOCK_MS,
  REDIS_READ_COUNT,
} from '../config/defaults';
import type { BeepConfig } from '../config/schema';
import type { RelayBus } from '../delivery/relay-bus';
import type { CheckOutcome } from '../observability/health';
import type { LogFor } from './observability';
import type { GatewayNode } from '../pairing/pairing-service';

// Cluster mode's parts (only built with cluster.redisUrl): the checked Redis connection, the
// shared outbox and delivery store, the accounts (devices, API tokens, desktop ids, dashboard
// password, sessions and TOTP step), the outbox reader that is a node's only path from a commit
// to its RelayBus, device leases tied to sockets, the node registry, control events between the
// nodes over socket.io's Redis Streams adapter, and rate limits and failure budgets on Redis.

/** ms between run-time re-checks of Redis' persistence for store.durability "full" (someone may CONFIG SET it). */
const DURABILITY_RECHECK_MS = 60_000;

/** What this node reports into its registry record at each heartbeat. */
export interface NodeInfo {
  version: string;
  gatewayPort: number;
  adminPort: number;
  /** What this node advertises to phones (pairing and refresh answers list every node's). */
  gatewayUrl: string;
}

/** A node of the cluster: its shared ports and the machinery that keeps it in step with the others. */
export interface ClusterNode {
  nodeId: string;
  keys: RedisKeys;
  outbox: RedisOutbox;
  delivery: RedisDeliveryStore;
  leases: LeaseKeeper;
  accounts: RedisDeviceAccounts;
  deviceAdmin: RedisDeviceAdmin;
  apiTokens: RedisApiTokens;
  desktopIds: RedisDesktopIds;
  adminCredentials: RedisAdminCredentials;
  /** Dashboard sessions every node accepts; one ended on a node closes its live feeds on the others (control event). */
  dashboardSessions: RedisDashboardSessions;
  /** The dashboard's last used TOTP step, claimed once across the cluster. */
  totpSteps: RedisTotpSteps;
  /** The admin history (and attachments' lookup by id), read from the shared outbox. */
  history: RedisNotificationHistory;
  /** ntfy since= and Gotify lists, read from the shared outbox. */
  topicHistory: RedisTopicHistory;
  /** Scheduled notifications: every node runs its Scheduler; a due entry is claimed by one node. */
  scheduled: RedisScheduleStore;
  /** The retention sweep of the shared outbox (never trims what a paired device still owes); every node runs it. */
  retention: { prune(cutoffMs: number): Promise<number> };
  /** One audit chain for the cluster (compare-and-append). */
  audit: RedisAuditStore;
  /** Before the audit log opens: the cluster's audit key, this node's checkpoint joined to the chain (cluster-trust.ts). */
  joinAudit(): Promise<AuditKey>;
  /** What the node trusts, shared (cluster-trust.ts): the data-key and signing-key rings, the data-key rotation. */
  trust: ClusterTrust;
  /** The data-key ring (also a store port: openDataKeys loads it). */
  dataKeys: RedisDataKeys;
  registry: NodeRegistry;
  /** Rate limits and failure budgets shared by every node (this node's memory while Redis is away). */
  limiters: LimiterFactory;
  /** The socket.io adapter for the gateway's io server (its own stream under the key prefix). */
  adapter: ReturnType<typeof createAdapter>;
  /** The node's bus: the local one plus control events to the other nodes (`sharedTokens`: API token ids are the cluster's). */
  bus(local: RelayBus, sharedTokens: boolean): ClusterRelayBus;
  /** Connects the control channel once socket.io exists. */
  attachControl(io: ControlTransport, bus: ClusterRelayBus): void;
  /** Runs `follow` (swap in the cluster's CA if it changed) on a `ca-rotated` control event and every TRUST_REFRESH_MS, the safety net for a missed one. */
  followAuthority(follow: () => Promise<void>): void;
  /** Tells the other nodes the cluster's CA was rotated (after it is in Redis). */
  announceAuthority(fingerprint: string): void;
  /** Starts reading the outbox into the bus (from the seq at start), heartbeats and lease renewal; wakes the scheduler every SCHEDULE_CLAIM_MS. */
  start(bus: RelayBus, info: () => NodeInfo, scheduler: { wake(): Promise<void> }): Promise<void>;
  /** The cluster's connected phones: this node's now, the others' as of their last heartbeat (up to NODE_HEARTBEAT_MS old). */
  connectedDevices(): string[];
  /** /health/detailed's `redis` check: down while Redis cannot be reached. */
  health(): Promise<CheckOutcome>;
  /** The nodes alive now and which holds each of these devices. */
  nodes(): Promise<NodeRecord[]>;
  /** The gateways of the nodes alive now, this node first (this node alone while Redis cannot be read). */
  gatewayNodes(): Promise<GatewayNode[]>;
  /** The origins every node of the cluster advertised, as of the last heartbeat (their phone pages may connect here, even while that node is down). */
  gatewayOrigins(): ReadonlySet<string>;
  stop(): Promise<void>;
}

/**
 * Opens Redis and checks it (a RedisRefusedError stops the start with its message), checks this
 * node's master key is the cluster's, makes the certificate directory's CA the cluster's (before
 * the certificates are loaded) and opens the shared signing-key ring; builds the node.
 */
export async function openCluster(
  config: BeepConfig,
  vault: { master: Buffer; cipher: FieldCipher },
  log: LogFor,
  /** The node's file signing key: it seeds an empty cluster ring, so tokens it signed stay valid. */
  seed: SigningKey[],
): Promise<ClusterNode> {
  const sealer = vault.cipher;
  const clusterLog = log('cluster');
  const url = config.cluster.redisUrl!;
  const durability = config.store.durability;
  let lastError = '';
  const conn: RedisConnection = await openRedis(
    {
      url,
      prefix: config.cluster.keyPrefix,
      durability,
      commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: REDIS_CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: REDIS_MAX_RETRIES_PER_REQUEST,
    },
    (message) => clusterLog.warn(message),
    (error) => {
      // One line per distinct failure, not one per reconnect attempt.
      if (error.message === lastError) return;
      lastError = error.message;
      clusterLog.warn('Redis connection error; ingest answers 503 and phones stay connected until it is back', { error: error.message });
    },
  );
  const { redis } = conn;
  const nodeId = loadOrCreateNodeId(config.dataDir, config.cluster.nodeId);
  const keys = new RedisKeys(conn.prefix);
  let trust: ClusterTrust;
  try {
    trust = await openClusterTrust(config, { redis, keys, nodeId }, vault, clusterLog, seed);
  } catch (error) {
    await conn.close().catch(() => undefined);
    throw error;
  }
  const audit = new RedisAuditStore(redis, keys);
  const retention = new RedisRetention(redis, keys, REDIS_TRIM_BATCH);
  const deviceLeases = new DeviceLeases(redis, keys, nodeId, DEVICE_LEASE_TTL_MS);
  const control = new ControlChannel((error) => clusterLog.error('control event failed', { error: String(error) }));
  const leases = new LeaseKeeper(deviceLeases, Math.floor(DEVICE_LEASE_TTL_MS / 3), {
    // The newest connection wins: the other nodes close theirs.
    onClaimed: (deviceId, epoch) => control.send({ kind: 'device-connected', deviceId, epoch, node: nodeId }),
    onClosed: (deviceId, why) => clusterLog.info('socket closed: its lease is held elsewhere', { deviceId, why }),
    onError: (error, context) => clusterLog.warn('lease renewal failed; the socket stays open', { context, error: String(error) }),
  });
  const delivery = new RedisDeliveryStore(redis, keys, sealer, deviceLeases, (deviceId) => leases.fenced(deviceId));
  const outbox = new RedisOutbox(redis, keys, sealer, config.store.retentionDays * 86_400);
  const dashboardSessions = new RedisDashboardSessions(redis, keys, {
    loginTtlSec: config.dashboard.loginTtlSec,
    sessionIdleSec: config.dashboard.sessionIdleSec,
    onEnded: (sessionKeys) => control.send({ kind: 'sessions-ended', sessionKeys }),
  });
  const registry = new NodeRegistry(redis, keys, nodeId, NODE_HEARTBEAT_TTL_MS);
  const limiters = storeLimiters(
    (options) =>
      new RateLimiterRedis({
        storeClient: redis,
        ...options,
        keyPrefix: `${conn.prefix}rl:${options.keyPrefix}`,
        // While Redis is away each node counts on its own rather than refusing or letting everything through.
        insuranceLimiter: new RateLimiterMemory(options),
      }),
  );
  // The adapter reads in a loop that retries at once on a failed XREAD: on a client without an
  // offline queue that is a rejection per microtask while Redis is away, which starves the event
  // loop. Its own connection queues instead (each command still ends at the command timeout).
  const adapterRedis = await conn.duplicate();
  adapterRedis.options.enableOfflineQueue = true;
  const adapter = createAdapter(adapterRedis, { streamName: `${conn.prefix}socket.io`, maxLen: REDIS_ADAPTER_MAX_LEN, blockTimeInMs: REDIS_ADAPTER_BLOCK_MS });

  // Acks taken while Redis was away are written as soon as it is back.
  redis.on('ready', () => {
    if (lastError) clusterLog.info('Redis is reachable again', { heldWrites: delivery.heldWrites });
    lastError = '';
    delivery.flushHeld().catch((error) => clusterLog.warn('held progress writes not flushed yet', { error: String(error) }));
  });

  let reader: OutboxReader | undefined;
  let reading: Promise<void> | undefined;
  const timers: NodeJS.Timeout[] = [];
  let current: () => NodeInfo = () => ({ version: '', gatewayPort: 0, adminPort: 0, gatewayUrl: '' });
  let followCa: () => Promise<void> = async () => undefined;
  const checkCa = () => void followCa().catch((error) => clusterLog.warn('checking the cluster\'s CA failed; retried', { error: String(error) }));
  const caRotatedElsewhere = (node: string, caFingerprint: string) => {
    clusterLog.info('the cluster\'s CA was rotated on another node; swapping it in', { node, caFingerprint });
    checkCa();
  };
  const startedAt = new Date().toISOString();
  // The phones the other nodes held at their last heartbeat (a `Cache: no` notification is owed to them too).
  let elsewhere: string[] = [];
  // The cluster's gateway origins at the last heartbeat (a page from any of them may connect here).
  let origins: ReadonlySet<string> = new Set();
  const beat = async () => {
    await registry.beat({ ...current(), devices: leases.count, deviceIds: leases.heldIds(), startedAt });
    const list = await registry.list();
    elsewhere = list.filter((n) => n.id !== nodeId).flatMap((n) => n.deviceIds ?? []);
    origins = new Set(await registry.gatewayOrigins());
  };

  return {
    nodeId,
    keys,
    outbox,
    delivery,
    leases,
    accounts: new RedisDeviceAccounts(redis, keys, sealer, config.auth.maxSessionsPerDevice),
    deviceAdmin: new RedisDeviceAdmin(redis, keys, sealer),
    apiTokens: new RedisApiTokens(redis, keys),
    desktopIds: new RedisDesktopIds(redis, keys, nodeId),
    adminCredentials: new RedisAdminCredentials(redis, keys, sealer),
    dashboardSessions,
    totpSteps: new RedisTotpSteps(redis, keys),
    history: new RedisNotificationHistory(redis, keys, sealer, REDIS_HISTORY_SCAN_PAGE),
    topicHistory: new RedisTopicHistory(redis, keys, sealer, REDIS_HISTORY_SCAN_PAGE),
    scheduled: new RedisScheduleStore(redis, keys, sealer, nodeId, SCHEDULE_CLAIM_MS),
    audit,
    retention: {
      async prune(cutoffMs) {
        const removed = await retention.prune(cutoffMs);
        // A paired phone that never comes back keeps its owed notifications (and the outbox) from being trimmed.
        if (retention.last?.heldBackBy) clusterLog.warn('retention is held back by a paired device that has not fetched what it is owed; revoke it if it is gone', { ...retention.last });
        return removed;
      },
    },
    joinAudit: () => trust.joinAudit(audit),
    trust,
    dataKeys: trust.dataKeys,
    registry,
    limiters,
    adapter,
    bus: (local, sharedTokens) => new ClusterRelayBus(local, control, sharedTokens),
    attachControl(io, bus) {
      control.attach(io, (message) => {
        if (message.kind === 'device-connected') leases.takenElsewhere(message.deviceId, message.epoch);
        else if (message.kind === 'sessions-ended') dashboardSessions.closeEnded(message.sessionKeys);
        else if (message.kind === 'ca-rotated') caRotatedElsewhere(message.node, message.fingerprint);
        else bus.receive(message);
      });
    },
    followAuthority(follow) {
      followCa = follow;
    },
    announceAuthority: (fingerprint) => control.send({ kind: 'ca-rotated', fingerprint, node: nodeId }),
    async start(bus, info, scheduler) {
      current = info;
      // A node reads from the seq at its start: its phones connect afterwards and page their backlog from their progress.
      const from = Number((await redis.get(keys.seq)) ?? 0);
      reader = new OutboxReader(await conn.duplicate(REDIS_READ_BLOCK_MS + REDIS_COMMAND_TIMEOUT_MS), keys, sealer, {
        blockMs: REDIS_READ_BLOCK_MS,
        count: REDIS_READ_COUNT,
        retryMs: REDIS_READ_BLOCK_MS,
        onError: (error, context) => clusterLog.warn('outbox read failed; it resumes from the last seq read', { context, error: String(error) }),
      });
      const r = reader;
      reading = (async () => {
        for await (const n of r.read(from)) void bus.accepted(n);
      })().catch((error: unknown) => void clusterLog.error('outbox reader stopped', { error: String(error) }));
      leases.start();
      await beat();
      timers.push(setInterval(() => void beat().catch(() => undefined), NODE_HEARTBEAT_MS));
      // Sessions gone from Redis (idle expiry, an announcement missed) close their feeds here too.
      timers.push(setInterval(() => void dashboardSessions.sweep().catch(() => undefined), DASHBOARD_SESSION_SWEEP_MS));
      // An entry scheduled on another node (or left claimed by a node that died) is due here too: one node claims it.
      timers.push(setInterval(() => void scheduler.wake().catch(() => undefined), SCHEDULE_CLAIM_MS));
      timers.push(setInterval(() => void trust.refresh().catch((error) => clusterLog.warn('reloading the data keys and signing keys failed; retried', { error: String(error) })), TRUST_REFRESH_MS));
      timers.push(setInterval(checkCa, TRUST_REFRESH_MS));
      if (durability === 'full') {
        timers.push(
          setInterval(() => {
            checkDurability(redis, durability, (m) => clusterLog.warn(m)).catch((error) => clusterLog.error('Redis no longer meets store.durability "full"', { error: String(error) }));
          }, DURABILITY_RECHECK_MS),
        );
      }
      for (const t of timers) t.unref();
    },
    async health() {
      const started = Date.now();
      try {
        await redis.ping();
      } catch (error) {
        // Phones stay connected meanwhile; their acks wait here (heldWrites) for Redis to come back.
        return { status: 'down', reason: `Redis unreachable: ${(error as Error).message}`, node: nodeId, heldWrites: delivery.heldWrites };
      }
      const nodes = await registry.list();
      return { status: 'ok', node: nodeId, roundTripMs: Date.now() - started, nodes: nodes.map((n) => ({ id: n.id, devices: n.devices, version: n.version, seenAt: n.seenAt })), heldWrites: delivery.heldWrites };
    },
    nodes: () => registry.list(),
    gatewayOrigins: () => origins,
    async gatewayNodes() {
      const self: GatewayNode = { url: current().gatewayUrl, id: nodeId };
      // A node that has not heartbeated since it started (or an older version) has no URL to give.
      const others = await registry.list().then(
        (list) => list.filter((n) => n.id !== nodeId && typeof n.gatewayUrl === 'string' && n.gatewayUrl !== ''),
        () => [],
      );
      return [self, ...others.map((n) => ({ url: n.gatewayUrl, id: n.id }))];
    },
    connectedDevices: () => [...new Set([...leases.heldIds(), ...elsewhere])],
    async stop() {
      for (const t of timers) clearInterval(t);
      leases.stop();
      reader?.stop();
      await reading;
      await registry.leave().catch(() => undefined);
      await conn.close();
    },
  };
}
