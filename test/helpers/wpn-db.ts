import Database from 'better-sqlite3';

// The Windows notification platform's per-user database (wpndatabase.db) as Windows 10/11 lay
// it out, for tests of the Windows source on any OS. The CREATE TABLE text is the platform's
// own, as recorded by plaso's windows_push_notification parser (log2timeline/plaso); rows are
// written the way the platform writes them: Type 'toast'/'badge'/'tile'/'raw', PayloadType
// 'Xml', ArrivalTime/ExpiryTime as FILETIME (100 ns ticks since 1601-01-01), through a second
// connection in WAL mode while Beep reads.

const SCHEMA = `
CREATE TABLE [HandlerAssets]( [HandlerId] INTEGER CONSTRAINT[AssetsToHandler] REFERENCES[NotificationHandler]([RecordId]) ON DELETE CASCADE ON UPDATE CASCADE, [AssetKey] TEXT NOT NULL, [AssetValue] TEXT, CONSTRAINT[] PRIMARY KEY([AssetKey], [HandlerId]) ON CONFLICT REPLACE);
CREATE TABLE [HandlerSettings]( [HandlerId] INTEGER CONSTRAINT[SettingsToHandler] REFERENCES[NotificationHandler]([RecordId]) ON DELETE CASCADE ON UPDATE CASCADE, [SettingKey] TEXT NOT NULL, [Value] INT, CONSTRAINT[] PRIMARY KEY([SettingKey], [HandlerId]) ON CONFLICT REPLACE);
CREATE TABLE [Metadata]( [Key] TEXT, [Value] INT64, CONSTRAINT[] PRIMARY KEY([Key]) ON CONFLICT REPLACE);
CREATE TABLE [Notification]( [Order] INTEGER NOT NULL PRIMARY KEY, [Id] INTEGER NOT NULL, [HandlerId] INTEGER CONSTRAINT[NotificationToHandler] REFERENCES[NotificationHandler]([RecordId]) ON DELETE CASCADE ON UPDATE CASCADE, [ActivityId] GUID,[Type] TEXT NOT NULL, [Payload] BLOB, [Tag] TEXT, [Group] TEXT, [ExpiryTime] INT64, [ArrivalTime] INT64, [DataVersion] INT64 DEFAULT '0', [PayloadType] TEXT NOT NULL, [BootId] INT64 DEFAULT '0', [ExpiresOnReboot] BOOLEAN DEFAULT 'FALSE', UNIQUE([Id]) ON CONFLICT REPLACE);
CREATE TABLE [NotificationData]( [NotificationId] INTEGER CONSTRAINT[DataToNotification] REFERENCES[Notification]([Id]) ON DELETE CASCADE ON UPDATE CASCADE, [Key] TEXT NOT NULL, [Value] TEXT, CONSTRAINT[] PRIMARY KEY([Key], [NotificationId]) ON CONFLICT REPLACE);
CREATE TABLE [NotificationHandler] ( [RecordId] INTEGER PRIMARY KEY, [PrimaryId] TEXT NOT NULL COLLATE NOCASE, [WNSId] TEXT COLLATE NOCASE, [HandlerType] TEXT, [WNFEventName] INT64, [SystemDataPropertySet] BLOB, [CreatedTime] DATETIME, [ModifiedTime] DATETIME, [ParentId] TEXT COLLATE NOCASE, [ContainerSid] TEXT COLLATE NOCASE);
CREATE TABLE [TransientTable]( [OfflineCacheCount] INTEGER, [NotificationId] INTEGER CONSTRAINT[TransientToNotification] REFERENCES[Notification]([Id]) ON DELETE CASCADE ON UPDATE CASCADE, [OfflineBundleId] TEXT, [ServerCacheRollover] BOOLEAN DEFAULT 'FALSE', [CrossDeviceMatchId] TEXT, [SuppressPopup] BOOLEAN DEFAULT 'FALSE', [IsMirroringDisabled] BOOLEAN DEFAULT 'FALSE', [RecurrenceId] GUID, [MessageId] GUID, [Priority] INTEGER NOT NULL, [CV] TEXT);
CREATE TABLE [WNSPushChannel]( [ChannelId] TEXT NOT NULL, [HandlerId] INTEGER REFERENCES[NotificationHandler]([RecordId]) ON DELETE CASCADE ON UPDATE CASCADE, [Uri] TEXT, [ExpiryTime] INT64, [CreatedTime] INT64, [DeviceVersion] INT64 DEFAULT '0', CONSTRAINT[] PRIMARY KEY([ChannelId]) ON CONFLICT REPLACE);
`;

/** ms → FILETIME. */
export function filetime(ms: number): bigint {
  return (BigInt(Math.floor(ms)) + 11_644_473_600_000n) * 10_000n;
}

/** Three days: the platform's default toast expiry in the Action Center. */
const DEFAULT_EXPIRY_MS = 3 * 86_400_000;

export interface PostOptions {
  type?: 'toast' | 'badge' | 'tile' | 'raw';
  tag?: string;
  group?: string;
  /** ms since 1970; default now. */
  arrivalMs?: number;
  /** ms since 1970; default arrival + 3 days; null writes 0. */
  expiryMs?: number | null;
}

export class FakeWpnDatabase {
  readonly db: Database.Database;
  private lastArrival = 0n;

  /** Creates the database (schema, WAL) unless `create` is false: then it opens an existing one. */
  constructor(
    readonly file: string,
    create = true,
  ) {
    this.db = new Database(file);
    if (!create) return;
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
  }

  /** The handler (app) row for a PrimaryId, created on first use; a display name goes to HandlerAssets. */
  handler(primaryId: string, displayName?: string): number {
    const found = this.db.prepare('SELECT RecordId FROM NotificationHandler WHERE PrimaryId = ?').get(primaryId) as { RecordId: number } | undefined;
    if (found) return found.RecordId;
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
    const id = Number(
      this.db
        .prepare("INSERT INTO NotificationHandler (PrimaryId, HandlerType, CreatedTime, ModifiedTime) VALUES (?, 'app:desktop', ?, ?)")
        .run(primaryId, now, now).lastInsertRowid,
    );
    if (displayName) this.db.prepare("INSERT INTO HandlerAssets (HandlerId, AssetKey, AssetValue) VALUES (?, 'DisplayName', ?)").run(id, displayName);
    return id;
  }

  /** Posts a notification as the platform would; returns its Order (rowid) and Id. */
  post(primaryId: string, payload: string | Buffer, options: PostOptions = {}): { order: number; id: number } {
    const handler = this.handler(primaryId);
    // Distinct, increasing arrival times, as 100 ns ticks of a real clock would be.
    let arrival = filetime(options.arrivalMs ?? Date.now());
    if (options.arrivalMs === undefined && arrival <= this.lastArrival) arrival = this.lastArrival + 1n;
    this.lastArrival = arrival > this.lastArrival ? arrival : this.lastArrival;
    const expiry = options.expiryMs === null ? 0n : options.expiryMs !== undefined ? filetime(options.expiryMs) : arrival + BigInt(DEFAULT_EXPIRY_MS) * 10_000n;
    const id = Number((this.db.prepare('SELECT COALESCE(MAX(Id), 0) + 1 AS id FROM Notification').get() as { id: number }).id);
    const order = Number(
      this.db
        .prepare(
          `INSERT INTO Notification (Id, HandlerId, ActivityId, Type, Payload, Tag, [Group], ExpiryTime, ArrivalTime, PayloadType)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Xml')`,
        )
        .run(id, handler, Buffer.alloc(16, id % 256), options.type ?? 'toast', typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, options.tag ?? null, options.group ?? null, expiry, arrival)
        .lastInsertRowid,
    );
    return { order, id };
  }

  /** Dismissed on the PC, cleared from the Action Center, or replaced by a toast with the same tag and group. */
  remove(order: number): void {
    this.db.prepare('DELETE FROM Notification WHERE "Order" = ?').run(order);
  }

  /** The newest Order (a deleted newest row's number is handed to the next insert: SQLite's rowid rule). */
  maxOrder(): number {
    return (this.db.prepare('SELECT COALESCE(MAX("Order"), 0) AS o FROM Notification').get() as { o: number }).o;
  }

  close(): void {
    this.db.close();
  }
}
