import net from 'node:net';
import Joi from 'joi';
import * as D from './defaults';
import { rulesSchema, type RulesConfig } from './rules-schema';
import { hostOfUrl } from './public-url';

// The one schema of Beep's configuration; the loader feeds it defaults < file < env < flags.
// The `rules` section's own schema is in rules-schema.ts (re-exported here).

export { rulesSchema, type RulesConfig };

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface BeepConfig {
  dataDir: string;
  gateway: {
    host: string;
    port: number;
    publicHost: string | null;
    /** The URL pairing links carry and this node advertises (https://host[:port]); its host must be one the certificate names. */
    publicUrl: string | null;
    /** Reverse proxies in front of the gateway; 0 = X-Forwarded-For is ignored. */
    trustProxyHops: number;
    /** Caps per client address on the gateway's connections (checked before the TLS handshake). */
    connections: { perAddress: number; perSecond: number; burst: number };
    /** How long a client may take: TLS handshake (gateway), headers, whole request, idle keep-alive (both listeners). */
    timeouts: { tlsHandshakeMs: number; headersMs: number; requestMs: number; keepAliveMs: number };
    /** PROXY protocol (v1/v2) from these balancer addresses or CIDR ranges (README: "Behind a load balancer"); empty = off. */
    proxyProtocol: { from: string[]; headerTimeoutMs: number };
  };
  admin: { host: string; port: number };
  log: {
    level: LogLevel;
    /** JSON lines in <data dir>/logs/beep.log, rotated by size; false = console only. */
    file: boolean;
    maxFileMb: number;
    maxFiles: number;
  };
  health: { checkTimeoutMs: number; cacheTtlMs: number };
  memory: { sampleIntervalMs: number; softLimitMb: number; hardLimitMb: number; leakGrowthMb: number };
  dashboard: { statsIntervalSec: number; loginTtlSec: number; sessionIdleSec: number; feedDevicesListed: number };
  /** Diagnostics for tests and troubleshooting; never enable in normal use. */
  diagnostics: {
    leakInjection: boolean;
    /** An admin route that crashes the process on purpose (tests of the crash exit and restart). */
    crashInjection: boolean;
  };
  /** Cluster mode: with a Redis URL the daemon is a node sharing its state through Redis (README: "Several PCs, one set of phones"). */
  cluster: {
    /** redis:// or rediss:// (BEEP_REDIS_URL); null = embedded mode (SQLite only). */
    redisUrl: string | null;
    /** Every key Beep writes in Redis starts with it. */
    keyPrefix: string;
    /** This node's name in the cluster; null = a stable id kept in <data dir>/node-id. */
    nodeId: string | null;
  };
  tls: { certDir: string; minVersion: 'TLSv1.2' | 'TLSv1.3'; renewBeforeDays: number };
  store: {
    durability: 'normal' | 'full';
    groupCommitMaxOps: number;
    groupCommitWindowMs: number;
    readPoolSize: number;
    /** s a read worker may sit idle before it ends; workers start when a query needs one. */
    readPoolIdleSec: number;
    /** ms a write waits for a write lock held by another process before it is refused (503). */
    lockWaitMs: number;
    /** Writes that may wait at once; one more is refused at once (503 not_accepted). */
    maxQueuedWrites: number;
    retentionDays: number;
    /** Optional cap on the database size; past it new notifications get 503 (nothing silently lost). */
    maxSizeMb: number | null;
  };
  queue: { batchWindowMs: number; maxBatch: number; maxInFlight: number; redeliverAfterMs: number };
  auth: {
    accessTokenTtlSec: number;
    refreshTokenTtlDays: number;
    pairingCodeTtlSec: number;
    signingKeyRotationDays: number;
    maxSessionsPerDevice: number;
    /** Hours of recent history offered at pairing (0 = never offered). */
    pairingHistoryHours: number;
    pairingHistoryMax: number;
  };
  rateLimits: {
    pairingAttempts: number;
    pairingWindowSec: number;
    pairingAttemptsPerCode: number;
    gatewayPerIpPerMin: number;
    gatewayStaticPerIpPerMin: number;
    devicePerMin: number;
    tokenPerIpPerMin: number;
    blockAfterViolations: number;
    blockDurationSec: number;
    socketEventsPerSec: number;
    socketEventBurst: number;
    socketFloodDisconnectAfter: number;
  };
  encryption: {
    /** Derive the master key from this passphrase (scrypt) instead of the key file; env BEEP_MASTER_PASSPHRASE. */
    passphrase: string | null;
    rotationBatchSize: number;
    /** ms between rotation batches (0 = as fast as the writer allows). */
    rotationPauseMs: number;
  };
  sources: {
    dbus: {
      enabled: boolean;
      /** null = $DBUS_SESSION_BUS_ADDRESS, else unix:path=/run/user/<uid>/bus (filled in by the loader). */
      address: string | null;
      /** Where the address came from: an explicit one that cannot be reached makes health degraded. */
      addressOrigin: 'config' | 'env' | 'default';
      retrySec: number;
    };
    macos: { enabled: boolean; database: string | null; pollSec: number };
    /** The Windows notification platform's database (wpndatabase.db), read-only. */
    windows: { enabled: boolean; database: string | null; pollSec: number };
  };
  rules: RulesConfig;
  /** ntfy and Gotify APIs on both listeners, with API tokens. */
  compat: {
    enabled: boolean;
    keepaliveSec: number;
    pingSec: number;
    tokenRequestsPerMinute: number;
    tokenFailures: number;
    tokenFailureWindowSec: number;
    streamsPerToken: number;
    streamsPerAddress: number;
    stalledStreamCloseSec: number;
    /**
     * ntfy specifics: the hosts an http action button may call when a phone asks the daemon to
     * perform it; topics that take token-less publishes on the loopback admin listener; scheduled
     * delivery's bounds.
     */
    ntfy: {
      httpActionHosts: string[];
      httpActionTimeoutMs: number;
      httpActionMaxResponseBytes: number;
      openTopics: string[];
      minDelaySec: number;
      maxDelaySec: number;
    };
  };
  /** The security audit log: retention, and the window wrong credentials are counted in. */
  audit: { retentionDays: number; failureWindowSec: number };
  /** Attachment files (ntfy's PUT with a filename, `beep send --file`): quotas, expiry, link lifetime. */
  attachments: { enabled: boolean; maxFileBytes: number; maxTotalBytes: number; expirySec: number; linkSec: number; sweepSec: number };
}

const port = Joi.number().integer().min(0).max(65535);
const positive = Joi.number().integer().min(1);

/** A balancer allowed to send PROXY headers: an IP address or a CIDR range ("10.0.0.5", "192.168.1.0/24", "::1"). */
const balancerAddress = Joi.string()
  .trim()
  .custom((value: string, helpers) => {
    const [address, bits, extra] = value.split('/');
    const family = net.isIP(address);
    const maxBits = family === 4 ? 32 : 128;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    return family !== 0 && bitsOk && extra === undefined ? value : helpers.message({ custom: '{{#label}} must be an IP address or a CIDR range (10.0.0.5, 192.168.1.0/24, ::1)' });
  });

/** An http action host: a DNS name or an IP address (IPv6 with or without brackets); no scheme, no port. */
const actionHost = Joi.string()
  .trim()
  .lowercase()
  .custom((value: string, helpers) => {
    const bare = value.replace(/^\[(.*)\]$/, '$1');
    const name = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
    return net.isIP(bare) || name.test(value) ? value : helpers.message({ custom: '{{#label}} must be a host name or an IP address, without a scheme or a port' });
  });

/** gateway.publicUrl: an https origin (a path, query or fragment would be dropped from pairing links, so they are refused). */
const publicUrl = Joi.string()
  .uri({ scheme: ['https'] })
  .custom((value: string, helpers) => {
    const url = new URL(value);
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      return helpers.message({ custom: '{{#label}} must be https://host[:port] only (no path, query, fragment or user)' });
    }
    return value;
  });

export const configSchema = Joi.object<BeepConfig>({
  dataDir: Joi.string().required(),
  gateway: Joi.object({
    host: Joi.string().hostname().default(D.GATEWAY_HOST),
    port: port.default(D.GATEWAY_PORT),
    publicHost: Joi.string().hostname().allow(null).default(null),
    publicUrl: publicUrl.allow(null).default(null),
    trustProxyHops: Joi.number().integer().min(0).max(10).default(0),
    connections: Joi.object({
      perAddress: positive.max(100_000).default(D.GATEWAY_CONNECTIONS_PER_ADDRESS),
      perSecond: positive.max(100_000).default(D.GATEWAY_CONNECTIONS_PER_SEC),
      burst: positive.max(1_000_000).default(D.GATEWAY_CONNECTION_BURST),
    }).default(),
    timeouts: Joi.object({
      tlsHandshakeMs: Joi.number().integer().min(100).max(600_000).default(D.TLS_HANDSHAKE_TIMEOUT_MS),
      headersMs: Joi.number().integer().min(100).max(600_000).default(D.HEADERS_TIMEOUT_MS),
      requestMs: Joi.number().integer().min(100).max(3_600_000).default(D.REQUEST_TIMEOUT_MS),
      keepAliveMs: Joi.number().integer().min(100).max(600_000).default(D.KEEP_ALIVE_TIMEOUT_MS),
    }).default(),
    proxyProtocol: Joi.object({
      from: Joi.array().items(balancerAddress).max(D.PROXY_PROTOCOL_MAX_BALANCERS).default([]),
      headerTimeoutMs: Joi.number().integer().min(100).max(60_000).default(D.PROXY_HEADER_TIMEOUT_MS),
    }).default(),
  }).default(),
  admin: Joi.object({
    host: Joi.string().hostname().default(D.ADMIN_HOST),
    port: port.default(D.ADMIN_PORT),
  }).default(),
  log: Joi.object({
    level: Joi.string().valid('error', 'warn', 'info', 'debug').default('info'),
    file: Joi.boolean().default(true),
    maxFileMb: positive.max(1024).default(D.LOG_FILE_MAX_MB),
    maxFiles: positive.max(100).default(D.LOG_FILES_KEPT),
  }).default(),
  health: Joi.object({
    checkTimeoutMs: Joi.number().integer().min(10).max(60_000).default(D.HEALTH_CHECK_TIMEOUT_MS),
    cacheTtlMs: Joi.number().integer().min(0).max(600_000).default(D.HEALTH_CACHE_TTL_MS),
  }).default(),
  memory: Joi.object({
    sampleIntervalMs: Joi.number().integer().min(100).max(60_000).default(D.MEMORY_SAMPLE_INTERVAL_MS),
    softLimitMb: positive.max(1_000_000).default(D.MEMORY_SOFT_LIMIT_MB),
    hardLimitMb: positive.max(1_000_000).default(D.MEMORY_HARD_LIMIT_MB),
    leakGrowthMb: positive.max(10_000).default(D.MEMORY_LEAK_GROWTH_MB),
  }).default(),
  dashboard: Joi.object({
    statsIntervalSec: positive.max(600).default(D.STATS_INTERVAL_SEC),
    loginTtlSec: positive.max(3_600).default(D.DASHBOARD_LOGIN_TTL_SEC),
    sessionIdleSec: positive.max(30 * 86_400).default(D.DASHBOARD_SESSION_IDLE_SEC),
    feedDevicesListed: positive.max(1_000).default(D.FEED_DEVICES_LISTED),
  }).default(),
  diagnostics: Joi.object({ leakInjection: Joi.boolean().default(false), crashInjection: Joi.boolean().default(false) }).default(),
  cluster: Joi.object({
    redisUrl: Joi.string().uri({ scheme: ['redis', 'rediss'] }).allow(null).default(null),
    keyPrefix: Joi.string().pattern(/^[A-Za-z0-9:_.-]{1,64}$/).default(D.REDIS_KEY_PREFIX),
    nodeId: Joi.string().pattern(/^[A-Za-z0-9_.-]{1,64}$/).allow(null).default(null),
  }).default(),
  tls: Joi.object({
    certDir: Joi.string().required(),
    minVersion: Joi.string().valid('TLSv1.2', 'TLSv1.3').default('TLSv1.3'),
    renewBeforeDays: Joi.number().integer().min(1).max(300).default(D.CERT_RENEW_BEFORE_DAYS),
  }).required(),
  store: Joi.object({
    durability: Joi.string().valid('normal', 'full').default('normal'),
    groupCommitMaxOps: positive.max(10_000).default(D.GROUP_COMMIT_MAX_OPS),
    groupCommitWindowMs: Joi.number().integer().min(0).max(50).default(D.GROUP_COMMIT_WINDOW_MS),
    readPoolSize: positive.max(16).default(D.READ_POOL_SIZE),
    readPoolIdleSec: Joi.number().integer().min(0).max(86_400).default(D.READ_POOL_IDLE_SEC),
    lockWaitMs: Joi.number().integer().min(0).max(60_000).default(D.STORE_LOCK_WAIT_MS),
    maxQueuedWrites: positive.max(100_000).default(D.STORE_MAX_QUEUED_WRITES),
    retentionDays: positive.max(3650).default(D.RETENTION_DAYS),
    maxSizeMb: positive.max(1_000_000).allow(null).default(null),
  }).default(),
  queue: Joi.object({
    batchWindowMs: Joi.number().integer().min(0).max(10_000).default(D.BATCH_WINDOW_MS),
    maxBatch: positive.max(1000).default(D.MAX_BATCH),
    maxInFlight: positive.max(64).default(D.MAX_IN_FLIGHT),
    redeliverAfterMs: Joi.number().integer().min(100).max(3_600_000).default(D.REDELIVER_AFTER_MS),
  }).default(),
  auth: Joi.object({
    accessTokenTtlSec: Joi.number().integer().min(30).max(86_400).default(D.ACCESS_TOKEN_TTL_SEC),
    refreshTokenTtlDays: positive.max(365).default(D.REFRESH_TOKEN_TTL_DAYS),
    pairingCodeTtlSec: Joi.number().integer().min(1).max(3600).default(D.PAIRING_CODE_TTL_SEC),
    signingKeyRotationDays: positive.max(365).default(D.SIGNING_KEY_ROTATION_DAYS),
    maxSessionsPerDevice: positive.max(100).default(D.MAX_SESSIONS_PER_DEVICE),
    pairingHistoryHours: Joi.number().integer().min(0).max(24 * 7).default(D.PAIRING_HISTORY_HOURS),
    pairingHistoryMax: positive.max(1000).default(D.PAIRING_HISTORY_MAX),
  }).default(),
  rateLimits: Joi.object({
    pairingAttempts: positive.max(1000).default(D.PAIRING_ATTEMPTS),
    pairingWindowSec: positive.max(86_400).default(D.PAIRING_WINDOW_SEC),
    pairingAttemptsPerCode: positive.max(1000).default(D.PAIRING_ATTEMPTS_PER_CODE),
    gatewayPerIpPerMin: positive.max(1_000_000).default(D.GATEWAY_REQUESTS_PER_IP_PER_MIN),
    gatewayStaticPerIpPerMin: positive.max(1_000_000).default(D.GATEWAY_STATIC_PER_IP_PER_MIN),
    devicePerMin: positive.max(1_000_000).default(D.DEVICE_REQUESTS_PER_MIN),
    tokenPerIpPerMin: positive.max(10_000).default(D.TOKEN_REFRESHES_PER_IP_PER_MIN),
    blockAfterViolations: positive.max(10_000).default(D.BLOCK_AFTER_VIOLATIONS),
    blockDurationSec: positive.max(86_400).default(D.BLOCK_DURATION_SEC),
    socketEventsPerSec: positive.max(10_000).default(D.SOCKET_EVENTS_PER_SEC),
    socketEventBurst: positive.max(100_000).default(D.SOCKET_EVENT_BURST),
    socketFloodDisconnectAfter: positive.max(1_000_000).default(D.SOCKET_FLOOD_DISCONNECT_AFTER),
  }).default(),
  encryption: Joi.object({
    passphrase: Joi.string().min(12).max(1024).allow(null).default(null),
    rotationBatchSize: positive.max(10_000).default(D.KEY_ROTATION_BATCH),
    rotationPauseMs: Joi.number().integer().min(0).max(60_000).default(0),
  }).default(),
  sources: Joi.object({
    dbus: Joi.object({
      enabled: Joi.boolean().required(),
      address: Joi.string().max(1024).allow(null).default(null),
      addressOrigin: Joi.string().valid('config', 'env', 'default').required(),
      retrySec: Joi.number().min(0.1).max(3600).default(D.DBUS_RETRY_SEC),
    }).required(),
    macos: Joi.object({
      enabled: Joi.boolean().required(),
      database: Joi.string().allow(null).default(null),
      pollSec: Joi.number().min(0.1).max(3600).default(D.MACOS_POLL_SEC),
    }).required(),
    windows: Joi.object({
      enabled: Joi.boolean().required(),
      database: Joi.string().allow(null).default(null),
      pollSec: Joi.number().min(0.1).max(3600).default(D.WINDOWS_POLL_SEC),
    }).required(),
  }).required(),
  rules: rulesSchema,
  compat: Joi.object({
    enabled: Joi.boolean().default(true),
    keepaliveSec: positive.max(3600).default(D.NTFY_KEEPALIVE_SEC),
    pingSec: positive.max(3600).default(D.GOTIFY_PING_SEC),
    tokenRequestsPerMinute: positive.max(1_000_000).default(D.TOKEN_REQUESTS_PER_MINUTE),
    tokenFailures: positive.max(1000).default(D.TOKEN_FAILURES),
    tokenFailureWindowSec: positive.max(86_400).default(D.TOKEN_FAILURE_WINDOW_SEC),
    streamsPerToken: positive.max(10_000).default(D.STREAMS_PER_TOKEN),
    streamsPerAddress: positive.max(10_000).default(D.STREAMS_PER_ADDRESS),
    stalledStreamCloseSec: positive.max(3600).default(D.STALLED_STREAM_CLOSE_SEC),
    ntfy: Joi.object({
      // Host names or IP addresses (no scheme, no port); a listed name resolving to a loopback or link-local address is refused unless that address is listed too.
      httpActionHosts: Joi.array().items(actionHost).max(256).default([]),
      httpActionTimeoutMs: positive.max(120_000).default(D.HTTP_ACTION_TIMEOUT_MS),
      httpActionMaxResponseBytes: positive.max(16 * 1024 * 1024).default(D.HTTP_ACTION_MAX_RESPONSE_BYTES),
      openTopics: Joi.array().items(Joi.string().pattern(/^[-_A-Za-z0-9]{1,64}$/)).max(100).unique().default([]),
      minDelaySec: Joi.number().min(0).max(86_400).default(D.NTFY_MIN_DELAY_SEC),
      maxDelaySec: positive.max(30 * 86_400).default(D.NTFY_MAX_DELAY_SEC),
    }).default(),
  }).default(),
  audit: Joi.object({
    retentionDays: positive.max(36_500).default(D.AUDIT_RETENTION_DAYS),
    failureWindowSec: positive.max(86_400).default(D.AUDIT_FAILURE_WINDOW_SEC),
  }).default(),
  attachments: Joi.object({
    enabled: Joi.boolean().default(true),
    maxFileBytes: positive.max(1024 ** 4).default(D.ATTACHMENT_MAX_FILE_BYTES),
    maxTotalBytes: positive.max(1024 ** 5).default(D.ATTACHMENT_MAX_TOTAL_BYTES),
    expirySec: positive.max(365 * 86_400).default(D.ATTACHMENT_EXPIRY_SEC),
    linkSec: positive.max(7 * 86_400).default(D.ATTACHMENT_LINK_SEC),
    sweepSec: positive.max(86_400).default(D.ATTACHMENT_SWEEP_SEC),
  }).default(),
}).custom((value: BeepConfig, helpers) => {
  // Cross-field: two listeners cannot share a fixed port on the same address.
  const sameHost = value.gateway.host === value.admin.host || value.gateway.host === '0.0.0.0';
  if (value.gateway.port !== 0 && value.gateway.port === value.admin.port && sameHost) {
    return helpers.message({ custom: '"gateway.port" and "admin.port" must differ' });
  }
  if (value.gateway.timeouts.headersMs > value.gateway.timeouts.requestMs) {
    return helpers.message({ custom: '"gateway.timeouts.headersMs" must not exceed "gateway.timeouts.requestMs"' });
  }
  const { publicHost, publicUrl: url } = value.gateway;
  if (publicHost && url && hostOfUrl(url) !== publicHost.replace(/^\[(.*)\]$/, '$1').toLowerCase()) {
    return helpers.message({ custom: '"gateway.publicHost" and "gateway.publicUrl" name different hosts; set one of them, or make them agree' });
  }
  if (value.memory.softLimitMb >= value.memory.hardLimitMb) {
    return helpers.message({ custom: '"memory.softLimitMb" must be below "memory.hardLimitMb"' });
  }
  return value;
});
