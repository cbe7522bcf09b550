import Joi from 'joi';
import * as D from './defaults';

// The one schema of Beep's configuration; the loader feeds it defaults < file < env < flags.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface BeepConfig {
  dataDir: string;
  gateway: {
    host: string;
    port: number;
    publicHost: string | null;
    /** Reverse proxies in front of the gateway; 0 = X-Forwarded-For is ignored. */
    trustProxyHops: number;
  };
  admin: { host: string; port: number };
  log: { level: LogLevel };
  redisUrl: string | null;
  tls: { certDir: string; minVersion: 'TLSv1.2' | 'TLSv1.3'; renewBeforeDays: number };
  store: {
    durability: 'normal' | 'full';
    groupCommitMaxOps: number;
    groupCommitWindowMs: number;
    readPoolSize: number;
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
  };
  rateLimits: {
    pairingAttempts: number;
    pairingWindowSec: number;
    pairingAttemptsPerCode: number;
    gatewayPerIpPerMin: number;
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
}

const port = Joi.number().integer().min(0).max(65535);
const positive = Joi.number().integer().min(1);

export const configSchema = Joi.object<BeepConfig>({
  dataDir: Joi.string().required(),
  gateway: Joi.object({
    host: Joi.string().hostname().default(D.GATEWAY_HOST),
    port: port.default(D.GATEWAY_PORT),
    publicHost: Joi.string().hostname().allow(null).default(null),
    trustProxyHops: Joi.number().integer().min(0).max(10).default(0),
  }).default(),
  admin: Joi.object({
    host: Joi.string().hostname().default(D.ADMIN_HOST),
    port: port.default(D.ADMIN_PORT),
  }).default(),
  log: Joi.object({ level: Joi.string().valid('error', 'warn', 'info', 'debug').default('info') }).default(),
  // Cluster mode is a later feature: refuse the setting rather than silently ignore it.
  redisUrl: Joi.valid(null)
    .default(null)
    .messages({ 'any.only': '{{#label}}: cluster mode (Redis) is not available in this version of Beep' }),
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
  }).default(),
  rateLimits: Joi.object({
    pairingAttempts: positive.max(1000).default(D.PAIRING_ATTEMPTS),
    pairingWindowSec: positive.max(86_400).default(D.PAIRING_WINDOW_SEC),
    pairingAttemptsPerCode: positive.max(1000).default(D.PAIRING_ATTEMPTS_PER_CODE),
    gatewayPerIpPerMin: positive.max(1_000_000).default(D.GATEWAY_REQUESTS_PER_IP_PER_MIN),
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
}).custom((value: BeepConfig, helpers) => {
  // Cross-field: two listeners cannot share a fixed port on the same address.
  const sameHost = value.gateway.host === value.admin.host || value.gateway.host === '0.0.0.0';
  if (value.gateway.port !== 0 && value.gateway.port === value.admin.port && sameHost) {
    return helpers.message({ custom: '"gateway.port" and "admin.port" must differ' });
  }
  return value;
});
