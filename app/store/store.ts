import path from 'node:path';
import { SqliteAdminCredentials } from './admin-credential-store';
import { ApiTokenRepository } from './api-token-repository';
import { SqliteApiTokens } from './api-token-store';
import { AuditRepository } from './audit-repository';
import { Checkpointer } from './checkpointer';
import { CredentialRepository } from './credential-repository';
import { SqliteDataKeys } from './data-key-store';
import { openDatabase, type Db } from './database';
import { SqliteDeliveryStore } from './delivery-store';
import { DesktopIdRepository } from './desktop-id-repository';
import { SqliteDesktopIds } from './desktop-id-store';
import { DeviceAccounts } from './device-accounts';
import { DeviceAdmin } from './device-admin';
import { DeviceRepository } from './device-repository';
import { GroupWriter } from './group-writer';
import { NotificationHistory } from './notification-history';
import { NotificationRepository } from './notification-repository';
import { ReadPool } from './read-pool';
import type { FieldSealer } from './rows';
import { SourcePositionRepository } from './source-position-repository';
import { SqliteSourcePositions } from './source-position-store';
import { SqliteAuditStore } from './sqlite-audit-store';
import { SqliteOutbox } from './sqlite-outbox';
import { SqliteScheduleStore } from './scheduled-store';
import { TopicHistory } from './topic-history';

// The SQLite store: one writer connection with group commit, a read pool, the repositories,
// and one small adapter per port a consumer declares (ingest's Outbox, delivery's
// DeliveryStore, pairing's and auth's device accounts, the directory's, the sources', compat's,
// the audit log's, ...). daemon.ts hands each part its adapter, never the whole store.

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
  /** Seals private text at rest (crypto/FieldCipher); keys are loaded from `dataKeys` before use. */
  sealer: FieldSealer;
  /** Refresh-token families a device may hold (default 5); the oldest is dropped past it. */
  maxSessionsPerDevice?: number;
  onCheckpointError?: (error: unknown) => void;
}

/** Told of each group commit and of each read's wait for a connection (metrics). */
export interface StoreObserver {
  onCommit?: (seconds: number, size: number, ok: boolean) => void;
  onAcquire?: (seconds: number) => void;
}

/** bytes of WAL past which a checkpoint runs (SQLite's own default: 1000 pages of 4 KiB). */
const CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024;
/** ms between looks at the WAL's size while commits happen. */
const CHECKPOINT_CHECK_MS = 1_000;

/** Opens the database; daemon.ts builds one and hands each part the adapter of its port. */
export class Store {
  readonly file: string;
  readonly db: Db;
  readonly writer: GroupWriter;
  readonly pool: ReadPool;

  /** Ingest's outbox: appends, client-id lookups, and the shared dismiss path's write. */
  readonly outbox: SqliteOutbox;
  /** Delivery's progress per priority, backlog pages, dismissals, last seen. */
  readonly delivery: SqliteDeliveryStore;
  /** Pairing codes, enrolment and the history it offers, refresh-token families, the device lookup of token checks. */
  readonly accounts: DeviceAccounts;
  /** The device directory's list, rename, topic filter and revocation; the feed's device names. */
  readonly deviceAdmin: DeviceAdmin;
  /** The desktop sources' id map. */
  readonly desktopIds: SqliteDesktopIds;
  /** Where the polling desktop sources stopped reading. */
  readonly sourcePositions: SqliteSourcePositions;
  /** ntfy / Gotify API tokens. */
  readonly apiTokens: SqliteApiTokens;
  /** ntfy / Gotify subscribers' reads (seq order, topic filter). */
  readonly topicHistory: TopicHistory;
  /** The admin history. */
  readonly history: NotificationHistory;
  /** The audit chain. */
  readonly audit: SqliteAuditStore;
  /** The dashboard password and TOTP secret. */
  readonly adminCredentials: SqliteAdminCredentials;
  /** The wrapped data keys of field encryption. */
  readonly dataKeys: SqliteDataKeys;
  /** Scheduled notifications waiting for their due time (ntfy Delay/At/In). */
  readonly scheduled: SqliteScheduleStore;

  private readonly notifications: NotificationRepository;
  private readonly credentials: CredentialRepository;
  private readonly checkpointer: Checkpointer;
  private observer: StoreObserver = {};
  private readonly maxBytes?: number;

  constructor(options: StoreOptions) {
    this.maxBytes = options.maxBytes;
    this.file = path.join(options.dataDir, 'beep.db');
    this.db = openDatabase({ file: this.file, durability: options.durability, maxBytes: options.maxBytes });
    this.pool = new ReadPool({
      file: this.file,
      size: options.readPoolSize,
      idleMs: options.readPoolIdleMs,
      onAcquire: (seconds) => this.observer.onAcquire?.(seconds),
    });
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
        this.observer.onCommit?.(seconds, size, ok);
        if (ok) this.checkpointer.committed();
      },
    });
    const { db, writer, pool } = this;
    const { sealer } = options;
    this.notifications = new NotificationRepository(db, pool, sealer);
    this.credentials = new CredentialRepository(db);
    const repos = { devices: new DeviceRepository(db, sealer), credentials: this.credentials, notifications: this.notifications };
    this.outbox = new SqliteOutbox(writer, this.notifications);
    this.delivery = new SqliteDeliveryStore(db, writer, pool, sealer);
    this.accounts = new DeviceAccounts(writer, repos, options.maxSessionsPerDevice ?? 5);
    this.deviceAdmin = new DeviceAdmin(writer, repos);
    this.desktopIds = new SqliteDesktopIds(writer, new DesktopIdRepository(db));
    this.sourcePositions = new SqliteSourcePositions(writer, new SourcePositionRepository(db));
    this.apiTokens = new SqliteApiTokens(writer, new ApiTokenRepository(db));
    this.topicHistory = new TopicHistory(pool, sealer, this.notifications);
    this.history = new NotificationHistory(this.notifications);
    this.audit = new SqliteAuditStore(writer, new AuditRepository(db, pool));
    this.adminCredentials = new SqliteAdminCredentials(db, writer, sealer);
    this.dataKeys = new SqliteDataKeys(db, writer);
    this.scheduled = new SqliteScheduleStore(db, writer, sealer);
  }

  /** Who is told of commits and reads (set once the metrics exist; composition/store.ts). */
  observe(observer: StoreObserver): void {
    this.observer = observer;
  }

  // ── housekeeping & health ──────────────────────────────────────────────────

  /** Drops what retention no longer keeps. */
  prune(cutoffMs: number): Promise<number> {
    return this.writer.run(() => {
      this.credentials.dropExpired(Date.now());
      // Cache: no rows owed only to devices since revoked go too.
      return this.notifications.deleteOlderThan(cutoffMs) + this.notifications.uncached.purge();
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

  /** A TRUNCATE checkpoint on a pool worker: older versions of rewritten pages leave the disk (after a re-seal). */
  truncateWal(): void {
    this.checkpointer.truncate();
  }

  async close(): Promise<void> {
    this.checkpointer.close();
    this.writer.close();
    await this.pool.close();
    this.db.close();
  }
}
