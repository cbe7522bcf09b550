import path from 'node:path';
import type { DeviceRecord, NewDevice, RefreshOutcome } from '../domain/device';
import type { NotificationInput, StoredNotification } from '../domain/notification';
import type { AuditAnchor, AuditEvent, AuditInput, AuditKey, AuditRow, ChainHead } from '../domain/audit-chain';
import { AuditRepository, type PruneOutcome, type UpgradeOutcome } from './audit-repository';
import { CredentialRepository } from './credential-repository';
import { Checkpointer } from './checkpointer';
import { openDatabase, type Db } from './database';
import { DesktopIdRepository } from './desktop-id-repository';
import { SourcePositionRepository } from './source-position-repository';
import { DeviceRepository, type Progress } from './device-repository';
import { GroupWriter } from './group-writer';
import { NotificationRepository, type AppendOutcome } from './notification-repository';
import { KeyRotation, type RotatingSealer } from './key-rotation';
import { ReadPool } from './read-pool';
import { RowReseal } from './row-reseal';
import { ApiTokenRepository, type ApiTokenOrigin, type ApiTokenRecord } from './api-token-repository';
import { TopicHistory } from './topic-history';
import { aadOf } from './rows';

// The SQLite store: one writer connection with group commit, a read pool, the repositories,
// and the operations the other parts' interfaces ask for (ingest's Outbox, the gateway's
// DeliveryStore, auth's and pairing's credential stores).

export interface StoreOptions {
  dataDir: string;
  durability: 'normal' | 'full';
  groupCommitMaxOps: number;
  groupCommitWindowMs: number;
  readPoolSize: number;
  /** ms a read worker may sit idle before it ends (workers start when a query needs one). */
  readPoolIdleMs: number;
  /** ms a write may wait for a write lock held by another process before it fails (503). */
  lockWaitMs: number;
  /** Writes that may wait at once (for a lock, or a commit); one more is refused at once (503). */
  maxQueuedWrites: number;
  maxBytes?: number;
  /** Seals private text at rest (crypto/FieldCipher); keys are loaded from dataKeys() before use. */
  sealer: RotatingSealer;
  rotationBatchSize?: number;
  rotationPauseMs?: number;
  onRotationFinished?: (keyId: string, total: number) => void;
  onRotationError?: (error: unknown) => void;
  /** Told when rows of the four-seal format of before are all converted to one seal per row. */
  onResealFinished?: (converted: number, unreadable: number) => void;
  onResealError?: (error: unknown) => void;
  /** Refresh-token families a device may hold (default 5); the oldest is dropped past it. */
  maxSessionsPerDevice?: number;
  onCommit?: (seconds: number, size: number, ok: boolean) => void;
  onAcquire?: (seconds: number) => void;
  onCheckpointError?: (error: unknown) => void;
}

/** bytes of WAL past which a checkpoint runs (SQLite's own default: 1000 pages of 4 KiB). */
const CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024;
/** ms between looks at the WAL's size while commits happen. */
const CHECKPOINT_CHECK_MS = 1_000;

/** Composes the database pieces; daemon.ts builds one and hands its methods to the parts. */
export class Store {
  readonly file: string;
  readonly db: Db;
  readonly writer: GroupWriter;
  readonly pool: ReadPool;
  readonly notifications: NotificationRepository;
  readonly devices: DeviceRepository;
  readonly credentials: CredentialRepository;
  readonly desktopIds: DesktopIdRepository;
  readonly sourcePositions: SourcePositionRepository;
  readonly apiTokens: ApiTokenRepository;
  /** ntfy / Gotify subscribers' reads (seq order, topic filter). */
  readonly topicHistory: TopicHistory;
  readonly audit: AuditRepository;
  readonly keyRotation: KeyRotation;
  /** Converts rows of the four-seal format to one seal per row; started once the keys are loaded. */
  readonly rowReseal: RowReseal;
  private readonly checkpointer: Checkpointer;

  private readonly maxBytes?: number;
  private readonly maxSessions: number;
  private readonly sealer: RotatingSealer;

  constructor(options: StoreOptions) {
    this.maxBytes = options.maxBytes;
    this.maxSessions = options.maxSessionsPerDevice ?? 5;
    this.sealer = options.sealer;
    this.file = path.join(options.dataDir, 'beep.db');
    this.db = openDatabase({ file: this.file, durability: options.durability, maxBytes: options.maxBytes });
    this.pool = new ReadPool({ file: this.file, size: options.readPoolSize, idleMs: options.readPoolIdleMs, onAcquire: options.onAcquire });
    this.checkpointer = new Checkpointer(this.pool, {
      walFile: `${this.file}-wal`,
      walBytes: CHECKPOINT_WAL_BYTES,
      checkEveryMs: CHECKPOINT_CHECK_MS,
      onError: options.onCheckpointError,
    });
    this.writer = new GroupWriter(this.db, {
      maxOps: options.groupCommitMaxOps,
      windowMs: options.groupCommitWindowMs,
      lockWaitMs: options.lockWaitMs,
      maxQueued: options.maxQueuedWrites,
      onCommit: (seconds, size, ok) => {
        options.onCommit?.(seconds, size, ok);
        if (ok) this.checkpointer.committed();
      },
    });
    this.notifications = new NotificationRepository(this.db, this.pool, options.sealer);
    this.devices = new DeviceRepository(this.db, this.pool, options.sealer);
    this.credentials = new CredentialRepository(this.db);
    this.desktopIds = new DesktopIdRepository(this.db);
    this.sourcePositions = new SourcePositionRepository(this.db);
    this.apiTokens = new ApiTokenRepository(this.db);
    this.topicHistory = new TopicHistory(this.pool, options.sealer);
    this.audit = new AuditRepository(this.db, this.pool);
    this.keyRotation = new KeyRotation(this.db, this.writer, options.sealer, {
      batchSize: options.rotationBatchSize ?? 200,
      pauseMs: options.rotationPauseMs ?? 0,
      onFinished: options.onRotationFinished,
      onError: options.onRotationError,
    });
    this.rowReseal = new RowReseal(this.db, this.writer, options.sealer, {
      batchSize: options.rotationBatchSize ?? 200,
      pauseMs: options.rotationPauseMs ?? 0,
      retryMs: options.lockWaitMs,
      onFinished: (converted, unreadable) => {
        this.checkpointer.truncate();
        options.onResealFinished?.(converted, unreadable);
      },
      onError: options.onResealError,
    });
  }

  // ── crypto: the wrapped data keys ──────────────────────────────────────────

  /** Every stored data key, oldest first (the newest is current unless a rotation says otherwise). */
  dataKeys(): { id: string; wrapped: string }[] {
    return this.db.prepare('SELECT id, wrapped FROM data_keys ORDER BY created_ms, rowid').all() as { id: string; wrapped: string }[];
  }

  /** Stores the dashboard password hash and (sealed) TOTP secret; null secret = no second factor. */
  setAdminCredentials(passwordHash: string, totpSecret: string | null): Promise<void> {
    return this.writer.run((db) => {
      const sealed = totpSecret === null ? null : this.sealer.seal(totpSecret, aadOf('admin_credentials', 'totp_secret', '1'));
      db.prepare(
        `INSERT INTO admin_credentials (id, password_hash, totp_secret, updated_ms) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, totp_secret = excluded.totp_secret, updated_ms = excluded.updated_ms`,
      ).run(passwordHash, sealed, Date.now());
    });
  }

  /** The dashboard credentials, TOTP secret opened; undefined when no password is set. */
  adminCredentials(): { passwordHash: string; totpSecret: string | null } | undefined {
    const row = this.db.prepare('SELECT password_hash, totp_secret FROM admin_credentials WHERE id = 1').get() as
      | { password_hash: string; totp_secret: string | null }
      | undefined;
    if (!row) return undefined;
    const totpSecret = row.totp_secret === null ? null : this.sealer.open(row.totp_secret, aadOf('admin_credentials', 'totp_secret', '1'));
    return { passwordHash: row.password_hash, totpSecret };
  }

  /** The first data key, stored at first start. */
  insertDataKey(id: string, wrapped: string): void {
    this.db.prepare('INSERT INTO data_keys (id, wrapped, created_ms) VALUES (?, ?, ?)').run(id, wrapped, Date.now());
  }

  // ── ingest: Outbox ─────────────────────────────────────────────────────────

  append(input: NotificationInput, id: string, afterCommit: (outcome: AppendOutcome) => void): Promise<AppendOutcome> {
    return this.writer.run(() => this.notifications.append(input, id, new Date()), afterCommit);
  }

  has(id: string): boolean {
    return this.notifications.has(id);
  }

  // ── gateway: DeliveryStore ─────────────────────────────────────────────────

  progress(deviceId: string): Progress | undefined {
    return this.devices.progress(deviceId);
  }

  deviceTopics(deviceId: string): string[] | null {
    return this.devices.byId(deviceId)?.topics ?? null;
  }

  pendingAbove(watermark: number): Promise<StoredNotification[]> {
    return this.notifications.pendingAbove(watermark);
  }

  /** `compute` runs inside the transaction, so it sees the freshest in-memory progress. */
  saveProgress(deviceId: string, compute: () => { watermark: number; ackedAbove: number[] }): Promise<void> {
    return this.writer.run(() => {
      const { watermark, ackedAbove } = compute();
      this.devices.saveProgress(deviceId, watermark, ackedAbove);
    });
  }

  dismiss(id: string, byDevice: string | null, afterCommit?: (r: { seq: number; dismissalSeq: number } | null) => void) {
    return this.writer.run(() => this.notifications.dismiss(id, byDevice, new Date()), afterCommit);
  }

  dismissalsAfter(cursor: number): Promise<{ seq: number; notificationId: string }[]> {
    return this.notifications.dismissalsAfter(cursor);
  }

  saveDismissCursor(deviceId: string, cursor: number): Promise<void> {
    return this.writer.run(() => this.devices.saveDismissCursor(deviceId, cursor));
  }

  touch(deviceId: string, at: Date): Promise<void> {
    return this.writer.run(() => this.devices.touch(deviceId, at));
  }

  // ── sources: DesktopIdStore ────────────────────────────────────────────────

  rememberDesktopId(source: string, key: string, notificationId: string): Promise<void> {
    return this.writer.run(() => this.desktopIds.remember(source, key, notificationId, Date.now()));
  }

  notificationForDesktopKey(source: string, key: string): string | undefined {
    return this.desktopIds.notificationFor(source, key);
  }

  desktopKeyOf(source: string, notificationId: string): string | undefined {
    return this.desktopIds.keyFor(source, notificationId);
  }

  // ── sources: SourcePositionStore ───────────────────────────────────────────

  async position(source: string): Promise<string | null> {
    return this.sourcePositions.get(source);
  }

  savePosition(source: string, position: string): Promise<void> {
    return this.writer.run(() => this.sourcePositions.put(source, position, Date.now()));
  }

  // ── auth & pairing ─────────────────────────────────────────────────────────

  device(id: string): DeviceRecord | undefined {
    return this.devices.byId(id);
  }

  createPairingCode(hash: string, expiresMs: number, offersHistory: boolean): Promise<void> {
    return this.writer.run(() => this.credentials.insertPairingCode(hash, Date.now(), expiresMs, offersHistory));
  }

  /** Burns the code and enrols the device in one transaction; null when the code is not good. */
  pairDevice(codeHash: string, device: NewDevice): Promise<(DeviceRecord & { historyOffered: boolean }) | null> {
    return this.writer.run(() => {
      const now = Date.now();
      const code = this.credentials.consumePairingCode(codeHash, now);
      if (!code) return null;
      const pairedSeq = this.notifications.lastSeq();
      const pairedAt = new Date(now).toISOString();
      // History only when both the code offers it and the person asked for it on the phone.
      const historyFromMs = code.offersHistory && device.historyHours ? now - device.historyHours * 3_600_000 : null;
      this.devices.insert({ id: device.id, name: device.name, platform: device.platform, pairedAt, pairedSeq, topics: device.topics ?? null, historyFromMs });
      this.credentials.insertRefreshToken(device.refreshHash, device.id, device.family, now, device.refreshExpiresMs);
      this.credentials.capFamilies(device.id, this.maxSessions);
      const record = this.devices.byId(device.id);
      return record ? { ...record, historyOffered: historyFromMs !== null } : null;
    });
  }

  /** The recent history a newly paired device asked for, once (empty afterwards, or when none is owed). */
  async takePairingHistory(deviceId: string, limit: number): Promise<StoredNotification[]> {
    const owed = await this.writer.run(() => this.devices.takeHistory(deviceId));
    return owed ? this.notifications.recentUpTo(owed.pairedSeq, owed.fromMs, owed.topics, limit) : [];
  }

  /** Opens another session (refresh-token family) for a device; the oldest past the cap are dropped. */
  addSession(deviceId: string, refreshHash: string, family: string, expiresMs: number): Promise<string[]> {
    return this.writer.run(() => {
      this.credentials.insertRefreshToken(refreshHash, deviceId, family, Date.now(), expiresMs);
      return this.credentials.capFamilies(deviceId, this.maxSessions);
    });
  }

  /** Rotates a refresh token; a second use of one revokes its family and every access token. */
  rotateRefreshToken(hash: string, nextHash: string, nextExpiresMs: number): Promise<RefreshOutcome> {
    return this.writer.run((): RefreshOutcome => {
      const now = Date.now();
      const row = this.credentials.refreshToken(hash);
      if (!row) return { kind: 'invalid' };
      const device = this.devices.byId(row.device_id);
      if (!device || device.revokedAt) return { kind: 'invalid' };
      if (row.used_ms !== null) {
        this.credentials.revokeFamily(row.family, now);
        this.devices.bumpTokenGeneration(row.device_id);
        return { kind: 'reused', deviceId: row.device_id };
      }
      if (row.expires_ms <= now) return { kind: 'invalid' };
      this.credentials.markRefreshTokenUsed(hash, now);
      this.credentials.insertRefreshToken(nextHash, row.device_id, row.family, now, nextExpiresMs);
      return { kind: 'rotated', deviceId: row.device_id };
    });
  }

  revokeDevice(id: string): Promise<boolean> {
    return this.writer.run(() => {
      const revoked = this.devices.revoke(id, new Date());
      if (revoked) this.credentials.revokeDeviceTokens(id);
      return revoked;
    });
  }

  renameDevice(id: string, name: string): Promise<boolean> {
    return this.writer.run(() => this.devices.rename(id, name));
  }

  // ── admin: HistorySource ───────────────────────────────────────────────────

  async history(limit: number, beforeId: string | null): Promise<StoredNotification[]> {
    let beforeSeq: number | null = null;
    if (beforeId !== null) {
      const anchor = await this.notifications.findById(beforeId);
      if (!anchor) return [];
      beforeSeq = anchor.seq;
    }
    return this.notifications.history(limit, beforeSeq);
  }

  // ── gateway: DirectoryStore ────────────────────────────────────────────────

  activeDevices(): DeviceRecord[] {
    return this.devices.active();
  }

  progressOfAll(): Promise<Map<string, Progress>> {
    return this.devices.allProgress();
  }

  countAbove(watermark: number, except: number[], topics: string[] | null = null): Promise<number> {
    return this.notifications.countAbove(watermark, except, topics);
  }

  /** A device's topic filter (null = every topic); false when unknown or revoked. */
  setDeviceTopics(id: string, topics: string[] | null): Promise<boolean> {
    return this.writer.run(() => this.devices.setTopics(id, topics));
  }

  // ── compat: ApiTokenStore and the subscribers' history ─────────────────────

  insertApiToken(
    hash: string,
    kind: 'publish' | 'subscribe',
    name: string,
    topics: string[] | null,
    by: { origin: ApiTokenOrigin; parentId: number | null },
  ): Promise<ApiTokenRecord | undefined> {
    return this.writer.run(() => this.apiTokens.insert(hash, kind, name, topics, by, Date.now()));
  }

  apiTokenByHash(hash: string): ApiTokenRecord | undefined {
    return this.apiTokens.byHash(hash);
  }

  listApiTokens(): ApiTokenRecord[] {
    return this.apiTokens.list();
  }

  revokeApiToken(id: number): Promise<number[]> {
    return this.writer.run(() => this.apiTokens.revoke(id, Date.now()));
  }

  touchApiToken(id: number, atMs: number): Promise<void> {
    return this.writer.run(() => this.apiTokens.touch(id, atMs));
  }

  seqOf(id: string): number | undefined {
    return this.notifications.seqOf(id);
  }

  // ── observability: AuditStore ──────────────────────────────────────────────

  appendAudit(input: AuditInput, atMs: number, key: AuditKey): Promise<ChainHead> {
    return this.writer.run(() => this.audit.append(input, atMs, key));
  }

  auditEntries(limit: number, beforeSeq: number | null): Promise<AuditRow[]> {
    return this.audit.list(limit, beforeSeq);
  }

  auditPage(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return this.audit.page(afterSeq, limit);
  }

  auditAnchor(): AuditAnchor | null {
    return this.audit.anchor();
  }

  auditCounts(): { total: number; keyed: number } {
    return this.audit.counts();
  }

  auditRecordedSince(event: AuditEvent, actor: string, sinceMs: number): boolean {
    return this.audit.recordedSince(event, actor, sinceMs);
  }

  upgradeUnkeyedAudit(key: AuditKey, atMs: number): Promise<UpgradeOutcome | null> {
    return this.writer.run(() => this.audit.upgradeUnkeyed(key, atMs));
  }

  pruneAudit(cutoffMs: number, maxSeq: number, atMs: number, key: AuditKey): Promise<PruneOutcome | null> {
    return this.writer.run(() => this.audit.prune(cutoffMs, maxSeq, atMs, key));
  }

  /** The newest details recorded for an event (e.g. the last config fingerprint). */
  lastAuditDetails(event: AuditEvent): Record<string, unknown> | undefined {
    return this.audit.lastDetails(event);
  }

  // ── housekeeping & health ──────────────────────────────────────────────────

  /** Drops what retention no longer keeps. */
  prune(cutoffMs: number): Promise<number> {
    return this.writer.run(() => {
      this.credentials.dropExpired(Date.now());
      return this.notifications.deleteOlderThan(cutoffMs);
    });
  }

  /** Bytes the database uses, and its cap when one is configured. */
  size(): { bytes: number; maxBytes: number | null } {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    return { bytes: pages * pageSize, maxBytes: this.maxBytes ?? null };
  }

  /** A round trip through the writer, and one through the pool when a worker runs. */
  async ping(): Promise<void> {
    await this.writer.run((db) => db.prepare('SELECT 1').get());
    await this.pool.ping();
  }

  async close(): Promise<void> {
    this.rowReseal.stop();
    this.checkpointer.close();
    this.writer.close();
    await this.pool.close();
    this.db.close();
  }
}
