import path from 'node:path';
import type { DeviceRecord, NewDevice, RefreshOutcome } from '../domain/device';
import type { NotificationInput, StoredNotification } from '../domain/notification';
import { CredentialRepository } from './credential-repository';
import { openDatabase, type Db } from './database';
import { DesktopIdRepository } from './desktop-id-repository';
import { DeviceRepository, type Progress } from './device-repository';
import { GroupWriter } from './group-writer';
import { NotificationRepository, type AppendOutcome } from './notification-repository';
import { ReadPool } from './read-pool';
import { ApiTokenRepository, type ApiTokenRecord } from './api-token-repository';
import { TopicHistory } from './topic-history';

// The SQLite store: one writer connection with group commit, a read pool, the repositories,
// and the operations the other parts' interfaces ask for (ingest's Outbox, the gateway's
// DeliveryStore, auth's and pairing's credential stores).

export interface StoreOptions {
  dataDir: string;
  durability: 'normal' | 'full';
  groupCommitMaxOps: number;
  groupCommitWindowMs: number;
  readPoolSize: number;
  maxBytes?: number;
  onCommit?: (seconds: number, size: number, ok: boolean) => void;
  onAcquire?: (seconds: number) => void;
}

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
  readonly apiTokens: ApiTokenRepository;
  /** ntfy / Gotify subscribers' reads (seq order, topic filter). */
  readonly topicHistory: TopicHistory;

  constructor(options: StoreOptions) {
    this.file = path.join(options.dataDir, 'beep.db');
    this.db = openDatabase({ file: this.file, durability: options.durability, maxBytes: options.maxBytes });
    this.writer = new GroupWriter(this.db, {
      maxOps: options.groupCommitMaxOps,
      windowMs: options.groupCommitWindowMs,
      onCommit: options.onCommit,
    });
    this.pool = new ReadPool({ file: this.file, size: options.readPoolSize, onAcquire: options.onAcquire });
    this.notifications = new NotificationRepository(this.db, this.pool);
    this.devices = new DeviceRepository(this.db, this.pool);
    this.credentials = new CredentialRepository(this.db);
    this.desktopIds = new DesktopIdRepository(this.db);
    this.apiTokens = new ApiTokenRepository(this.db);
    this.topicHistory = new TopicHistory(this.pool);
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

  // ── auth & pairing ─────────────────────────────────────────────────────────

  device(id: string): DeviceRecord | undefined {
    return this.devices.byId(id);
  }

  createPairingCode(hash: string, expiresMs: number): Promise<void> {
    return this.writer.run(() => this.credentials.insertPairingCode(hash, Date.now(), expiresMs));
  }

  /** Burns the code and enrols the device in one transaction; null when the code is not good. */
  pairDevice(codeHash: string, device: NewDevice): Promise<DeviceRecord | null> {
    return this.writer.run(() => {
      const now = Date.now();
      if (!this.credentials.consumePairingCode(codeHash, now)) return null;
      const pairedSeq = this.notifications.lastSeq();
      const pairedAt = new Date(now).toISOString();
      this.devices.insert({ id: device.id, name: device.name, platform: device.platform, pairedAt, pairedSeq, topics: device.topics ?? null });
      this.credentials.insertRefreshToken(device.refreshHash, device.id, device.family, now, device.refreshExpiresMs);
      return this.devices.byId(device.id) ?? null;
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

  countAbove(watermark: number, except: number[]): Promise<number> {
    return this.notifications.countAbove(watermark, except);
  }

  /** A device's topic filter (null = every topic); false when unknown or revoked. */
  setDeviceTopics(id: string, topics: string[] | null): Promise<boolean> {
    return this.writer.run(() => this.devices.setTopics(id, topics));
  }

  // ── compat: ApiTokenStore and the subscribers' history ─────────────────────

  insertApiToken(hash: string, kind: 'publish' | 'subscribe', name: string, topics: string[] | null): Promise<ApiTokenRecord> {
    return this.writer.run(() => this.apiTokens.insert(hash, kind, name, topics, Date.now()));
  }

  apiTokenByHash(hash: string): ApiTokenRecord | undefined {
    return this.apiTokens.byHash(hash);
  }

  listApiTokens(): ApiTokenRecord[] {
    return this.apiTokens.list();
  }

  revokeApiToken(id: number): Promise<boolean> {
    return this.writer.run(() => this.apiTokens.revoke(id, Date.now()));
  }

  touchApiToken(id: number, atMs: number): Promise<void> {
    return this.writer.run(() => this.apiTokens.touch(id, atMs));
  }

  seqOf(id: string): number | undefined {
    return this.notifications.seqOf(id);
  }

  // ── housekeeping & health ──────────────────────────────────────────────────

  /** Drops what retention no longer keeps. */
  prune(cutoffMs: number): Promise<number> {
    return this.writer.run(() => {
      this.credentials.dropExpired(Date.now());
      return this.notifications.deleteOlderThan(cutoffMs);
    });
  }

  /** A round trip through the writer and one through the pool. */
  async ping(): Promise<void> {
    await this.writer.run((db) => db.prepare('SELECT 1').get());
    await this.pool.get('SELECT 1');
  }

  async close(): Promise<void> {
    this.writer.close();
    await this.pool.close();
    this.db.close();
  }
}
