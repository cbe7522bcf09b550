import path from 'node:path';
import { perAddress } from '../auth/failure-limiter';
import type { LimiterFactory } from '../auth/limiter-factory';
import { SigningKeyRing, type KeyRing, type SigningKey } from '../auth/signing-keys';
import { TokenService } from '../auth/token-service';
import { AUDIT_CHECKPOINT_COMPACT_BYTES, AUDIT_MAINTENANCE_INTERVAL_MS, AUDIT_MAX_OPEN_WINDOWS } from '../config/defaults';
import type { BeepConfig } from '../config/schema';
import { loadOrCreateAuditKey } from '../crypto/audit-key';
import { FieldCipher, newDataKey } from '../crypto/field-cipher';
import { loadOrCreateMasterKey } from '../crypto/master-key';
import { AuditKey } from '../domain/audit-chain';
import type { KeyControl, RotationProgressView } from '../http/routes/key-routes';
import type { DeviceLookup } from '../auth/token-service';
import { AuditLog, type AuditStore } from '../observability/audit-log';
import type { Metrics } from '../observability/metrics';
import { CheckpointFile } from '../store/audit-checkpoint-file';
import { KeyRotation } from '../store/key-rotation';
import { RowReseal } from '../store/row-reseal';
import type { Store } from '../store/store';
import type { LogFor } from './observability';

// Keys, the audit log and the request budgets: the token signing key ring (and its rotation
// check), the master key and field cipher, the data keys, rate limiters, failure budgets and
// their hooks.

/** ms between checks whether the token signing key is due for rotation. */
const SIGNING_KEY_CHECK_MS = 60 * 60 * 1000;
/** seconds a retired signing key verifies beyond the token lifetime: tolerated clock skew. */
const CLOCK_SKEW_SEC = 60;

/** The signing key ring (loaded or created under dataDir/keys), before anything signs. */
export function openSigningKeys(config: BeepConfig): SigningKeyRing {
  return new SigningKeyRing(path.join(config.dataDir, 'keys'), {
    rotationDays: config.auth.signingKeyRotationDays,
    retainMs: (config.auth.accessTokenTtlSec + CLOCK_SKEW_SEC) * 1000,
  });
}

/** The master key and the (still empty) field cipher the store seals private text with. */
export function openVault(config: BeepConfig): { master: Buffer; cipher: FieldCipher } {
  const master = loadOrCreateMasterKey(path.join(config.dataDir, 'keys'), config.encryption.passphrase);
  return { master, cipher: new FieldCipher() };
}

/** ms in a day, for retention in days. */
const DAY_MS = 86_400_000;

/**
 * The audit log: its MAC key (keys/audit.key, beside the other keys and outside beep.db, so
 * whoever rewrites the database cannot reach it), the checkpoint file, the event policy's
 * window and retention. Keys an unkeyed chain from an earlier version, then starts maintenance.
 */
export async function openAuditLog(config: BeepConfig, store: AuditStore, metrics: Metrics, log: LogFor, /** Cluster mode: the cluster's key. */ key?: AuditKey): Promise<AuditLog> {
  const audit = new AuditLog(store, {
    key: key ?? new AuditKey(loadOrCreateAuditKey(path.join(config.dataDir, 'keys'))),
    checkpoint: CheckpointFile.inDataDir(config.dataDir, config.store.durability === 'full'),
    failureWindowMs: config.audit.failureWindowSec * 1000,
    maxOpenWindows: AUDIT_MAX_OPEN_WINDOWS,
    retentionMs: config.audit.retentionDays * DAY_MS,
    maintenanceEveryMs: AUDIT_MAINTENANCE_INTERVAL_MS,
    compactAboveBytes: AUDIT_CHECKPOINT_COMPACT_BYTES,
    count: (event) => metrics.securityEvents.inc({ event }),
    onError: (e) => log('audit').error('audit append failed', { error: String(e) }),
    onNotice: (message, fields) => log('audit').info(message, fields),
    onBroken: (v) => log('audit').error('audit log broken; `beep audit verify` names the entry', { seq: v.seq, problem: v.problem, detail: v.detail }),
  });
  await audit.open();
  return audit;
}

/**
 * Loads (or creates the first) data key, resumes a rotation and converts rows of the four-seal
 * format (the re-seal); `keys` is the admin control. Both jobs run through the store's writer.
 */
export async function openDataKeys(
  config: BeepConfig,
  store: Store,
  vault: { master: Buffer; cipher: FieldCipher },
  audit: AuditLog,
  log: LogFor,
  /** Attachment files, re-encrypted by a rotation (composition/attachments.ts). */
  files?: { rekey(targetKeyId: string): Promise<number> },
  /** Where the data-key ring is kept (composition/ports.ts chooses; the SQLite store's by default). */
  dataKeys: Pick<Store['dataKeys'], 'list' | 'insert'> = store.dataKeys,
  /** Cluster mode: the shared ring's current key (another node may have added one not yet active) and its rotation. */
  cluster?: { currentId(): Promise<string | undefined>; rotate(): Promise<{ started: boolean; progress: RotationProgressView }> },
): Promise<{ keys: KeyControl }> {
  const { master, cipher } = vault;
  let stored = await dataKeys.list();
  if (stored.length === 0) {
    // On a shared ring another node may have stored its first key meanwhile: the ring is read again.
    await dataKeys.insert(newDataKey(master));
    stored = await dataKeys.list();
  }
  // A node joining a cluster keeps opening what it sealed alone (its SQLite keys); it seals with the cluster's.
  const local = cluster && dataKeys !== store.dataKeys ? (await store.dataKeys.list()).filter((k) => !stored.some((s) => s.id === k.id)) : [];
  cipher.load(master, [...local, ...stored], await cluster?.currentId());
  const keysLog = log('keys');
  const { rotationBatchSize: batchSize, rotationPauseMs: pauseMs } = config.encryption;
  const rotation = new KeyRotation(store.db, store.writer, cipher, {
    batchSize,
    pauseMs,
    files,
    onFinished: (keyId, total) => {
      keysLog.info('data key rotation finished', { keyId, total });
      void audit.record('data_key_rotation_finished', 'system', { keyId, values: total });
    },
    onError: (error) => keysLog.error('data key rotation stopped; it resumes at the next start or `beep keys rotate`', { error: String(error) }),
  });
  const reseal = new RowReseal(store.db, store.writer, cipher, {
    batchSize,
    pauseMs,
    retryMs: config.store.lockWaitMs,
    onFinished: (converted, unreadable) => {
      store.truncateWal();
      keysLog.info('notifications of the four-seal format are sealed once per row now', { converted, unreadable });
    },
    onError: (error) => keysLog.warn('re-sealing notifications of the four-seal format', { error: String(error) }),
  });
  rotation.resume();
  reseal.start();
  const keys = {
    progress: () => rotation.progress(),
    rotate: cluster
      ? async () => {
          const rotated = await cluster.rotate();
          void audit.record('data_key_rotation_started', 'admin', { keyId: rotated.progress.keyId, values: 0 });
          return rotated;
        }
      : async () => {
      const started = !rotation.progress().running;
      const key = newDataKey(master);
      const progress = await rotation.start(key, () => cipher.add(master, key));
      if (started) void audit.record('data_key_rotation_started', 'admin', { keyId: progress.keyId, values: progress.total });
      return { started, progress };
    },
  };
  return { keys };
}

/**
 * Every budget, made by one factory (memory today; [cluster] passes Redis): the gateway's per-IP,
 * per-device and token budgets and the violation blocker, what a refusal records, and the
 * failure budgets (reserved before an attempt is evaluated, refunded when it succeeds).
 */
export function buildLimits(config: BeepConfig, metrics: Metrics, audit: AuditLog, log: LogFor, make: LimiterFactory) {
  const rl = config.rateLimits;
  const limits = {
    perIp: make.rate('gateway_ip', rl.gatewayPerIpPerMin, 60),
    staticPerIp: make.rate('gateway_static_ip', rl.gatewayStaticPerIpPerMin, 60),
    perDevice: make.rate('device', rl.devicePerMin, 60),
    tokenPerIp: make.rate('token_refresh_ip', rl.tokenPerIpPerMin, 60),
    blocker: make.blocker('gateway_ip', rl.blockAfterViolations, rl.blockDurationSec),
    hops: config.gateway.trustProxyHops,
  };
  const budgets = {
    pairingPerIp: perAddress(make.failures('pairing_ip', rl.pairingAttempts, rl.pairingWindowSec)),
    pairingPerCode: make.failures('pairing_code', rl.pairingAttemptsPerCode, rl.pairingWindowSec),
    dashboardLogin: perAddress(make.failures('dashboard_login', rl.pairingAttempts, rl.pairingWindowSec)),
    /** Bad API tokens and bad Gotify passwords spend one per-address budget. */
    credentialFailures: perAddress(make.failures('api_token_failures', config.compat.tokenFailures, config.compat.tokenFailureWindowSec)),
    tokenRequests: make.rate('api_token', config.compat.tokenRequestsPerMinute, 60),
  };
  const hooks = {
    onLimited: (scope: string) => metrics.rateLimited.inc({ scope }),
    onBlocked: (ip: string) => {
      log('gateway').warn('address blocked after repeated refusals', { ip, seconds: config.rateLimits.blockDurationSec });
      void audit.record('ip_blocked', `ip:${ip}`, { seconds: config.rateLimits.blockDurationSec });
    },
  };
  return { limits, hooks, budgets };
}

/** The gateway's limiters and hooks, as the servers take them. */
export type Limits = ReturnType<typeof buildLimits>;

/** The failure budgets and API-token request budget, as pairing, logins and compat take them. */
export type Budgets = Limits['budgets'];

/** A signing key ring that rotates: the file one (synchronous) or the cluster's (rotated under a lease in Redis). */
export type RotatingKeyRing = KeyRing & { rotateIfDue(): SigningKey | undefined | Promise<SigningKey | undefined>; kids(): string[] };

/** Access tokens signed by the ring; rotates the key now if due, then checks hourly until `stop`. */
export async function buildTokens(config: BeepConfig, signingKeys: RotatingKeyRing, store: DeviceLookup, audit: AuditLog, log: LogFor) {
  const tokens = new TokenService(signingKeys, store, config.auth.accessTokenTtlSec);
  const rotateSigningKey = async () => {
    const rotated = await signingKeys.rotateIfDue();
    if (rotated) void audit.record('signing_key_rotated', 'system', { kid: rotated.kid, verifying: signingKeys.kids() });
  };
  await rotateSigningKey();
  const timer = setInterval(() => void rotateSigningKey().catch((error) => log('keys').warn('signing key rotation check failed; retried next hour', { error: String(error) })), SIGNING_KEY_CHECK_MS);
  timer.unref();
  return { tokens, stop: () => clearInterval(timer) };
}
