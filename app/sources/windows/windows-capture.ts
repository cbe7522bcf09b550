import type Database from 'better-sqlite3';
import crypto from 'node:crypto';
import type { CaptureSink, DesktopSource, SkipCounter, SourcePositionStore } from '../source';
import type { SourceLog } from '../dbus/dbus-capture';
import { PolledDatabase, PolledSource } from '../polled-database';
import { advanced, KeptPosition, type Position } from '../read-position';
import { SkippedToast, toastToInput } from './toast-record';

// Windows capture: polls the notification platform's per-user database (wpndatabase.db,
// read-only, opened per poll) for toast rows past the read position (kept in the store, so a
// restart resumes there). Badges, tiles and raw pushes are other Types and are never read. A
// toast whose row disappears before its expiry was dismissed or cleared on the PC: it is
// dismissed on every phone. Nothing outside the platform may write that database, so a phone's
// dismiss cannot close the toast on the PC (closeOnDesktop answers false).

/** `sources.windows` from the config, poll period in ms. */
export interface WindowsCaptureOptions {
  enabled: boolean;
  database: string | null;
  pollMs: number;
  /** ms since 1970; injectable so expiry can be tested. */
  now?: () => number;
}

/** Toast rows read per poll; the rest follow on the next one. */
const BATCH = 500;
/** Captured toasts watched for removal, at most (the platform keeps far fewer). */
const MAX_TRACKED = 1024;
/** FILETIME counts 100 ns ticks from 1601-01-01; this many ms lie between then and 1970. */
const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000n;

interface ToastRow {
  order: bigint;
  id: bigint;
  arrival: bigint | null;
  expiry: bigint | null;
  payload: Buffer | string | null;
  tag: string | null;
  grp: string | null;
  handler: bigint | null;
  primaryId: string | null;
  displayName: string | null;
}

/** A captured toast still in the database. */
interface Tracked {
  beepId: string;
  /** The platform's notification Id: a reused Order with another Id is another toast. */
  id: bigint;
  expiry: bigint | null;
  /** handler + Tag + Group: a later toast with the same key replaces this one (the toast API's rule). */
  replaceKey: string | null;
}

/** The Beep id of a toast row: the same row always gets the same id, so a re-read is a duplicate, not a second notification. */
function beepIdOf(row: Pick<ToastRow, 'order' | 'id' | 'arrival'>): string {
  const key = `windows\0${row.order}\0${row.id}\0${row.arrival ?? ''}`;
  return `w${crypto.createHash('sha256').update(key).digest('base64url').slice(0, 24)}`;
}

function replaceKeyOf(row: Pick<ToastRow, 'handler' | 'tag' | 'grp'>): string | null {
  return row.tag ? `${row.handler ?? ''}\0${row.tag}\0${row.grp ?? ''}` : null;
}

/** A positive FILETIME, or null for 0 / NULL (no expiry recorded). */
function filetime(value: bigint | null): bigint | null {
  return value !== null && value > 0n ? value : null;
}

/**
 * The Windows source.
 *
 *   const win = new WindowsCapture({ enabled, database, pollMs }, sink, store, log, skipped); win.start();
 */
export class WindowsCapture extends PolledSource implements DesktopSource {
  readonly name = 'windows' as const;
  protected readonly loop: PolledDatabase;
  private readonly kept: KeptPosition<bigint>;
  /** Notification.Order → what was captured from it and is still in the database. */
  private readonly tracked = new Map<number, Tracked>();
  private resumed = false;
  private readonly now: () => number;

  constructor(
    options: WindowsCaptureOptions,
    private readonly sink: CaptureSink,
    positions: SourcePositionStore,
    private readonly log: SourceLog,
    private readonly skipped: SkipCounter = () => {},
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.kept = new KeptPosition('windows', options.database ?? '', positions, BigInt);
    const loopOptions = { ...options, configKey: 'sources.windows.enabled', what: 'the Windows notification platform' };
    this.loop = new PolledDatabase(loopOptions, { tables: ['Notification', 'NotificationHandler'], poll: (db) => this.poll(db) }, log);
  }

  private async poll(db: Database.Database): Promise<void> {
    let position = await this.kept.load();
    if (!position) {
      // First attach: start after what is already there (history is not replayed to the phones).
      const end = db.prepare('SELECT COALESCE(MAX("Order"), 0) AS row, COALESCE(MAX(ArrivalTime), 0) AS time FROM Notification').safeIntegers(true).get() as {
        row: bigint;
        time: bigint;
      };
      position = { row: Number(end.row), time: end.time };
      await this.kept.save(position);
    } else if (!this.resumed) {
      this.retrack(db, position);
    }
    this.resumed = true;

    const rows = this.newToasts(db, position);
    try {
      for (const row of rows) {
        await this.relay(row);
        position = advanced(position, Number(row.order), row.arrival);
      }
    } finally {
      await this.kept.save(position);
    }
    await this.dismissRemoved(db);
  }

  private newToasts(db: Database.Database, position: Position<bigint>): ToastRow[] {
    const assets = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'HandlerAssets'").get();
    const displayName = assets ? "(SELECT a.AssetValue FROM HandlerAssets a WHERE a.HandlerId = n.HandlerId AND a.AssetKey = 'DisplayName')" : 'NULL';
    return db
      .prepare(
        `SELECT n."Order" AS "order", n.Id AS id, n.ArrivalTime AS arrival, n.ExpiryTime AS expiry, n.Payload AS payload,
                n.Tag AS tag, n."Group" AS grp, n.HandlerId AS handler, h.PrimaryId AS primaryId, ${displayName} AS displayName
         FROM Notification n LEFT JOIN NotificationHandler h ON h.RecordId = n.HandlerId
         WHERE lower(n.Type) = 'toast' AND (n."Order" > ? OR n.ArrivalTime > ?) ORDER BY n."Order" LIMIT ${BATCH}`,
      )
      .safeIntegers(true)
      .all(BigInt(position.row), position.time) as ToastRow[];
  }

  /** After a restart: watch the toasts already read (captured before it) for removal again. */
  private retrack(db: Database.Database, position: Position<bigint>): void {
    const rows = db
      .prepare(
        `SELECT "Order" AS "order", Id AS id, ArrivalTime AS arrival, ExpiryTime AS expiry, Tag AS tag, "Group" AS grp, HandlerId AS handler
         FROM Notification WHERE lower(Type) = 'toast' AND "Order" <= ? AND (ArrivalTime IS NULL OR ArrivalTime <= ?)
         ORDER BY "Order" DESC LIMIT ${MAX_TRACKED}`,
      )
      .safeIntegers(true)
      .all(BigInt(position.row), position.time) as ToastRow[];
    // Some were never relayed (muted, unreadable): dismissing an id Beep does not hold does nothing.
    for (const row of rows.reverse()) {
      this.track(Number(row.order), { beepId: beepIdOf(row), id: row.id, expiry: filetime(row.expiry), replaceKey: replaceKeyOf(row) });
    }
  }

  private async relay(row: ToastRow): Promise<void> {
    const order = Number(row.order);
    let input = null;
    try {
      input = toastToInput(row.payload, row.primaryId ?? '', row.displayName);
    } catch (error) {
      if (!(error instanceof SkippedToast)) throw error;
      this.skipped(error.reason);
      this.log.warn('skipped a toast Beep cannot read', { order, reason: error.reason, error: error.message, app: row.primaryId });
    }
    const replaceKey = replaceKeyOf(row);
    const replaced = input && replaceKey ? this.untrackByKey(replaceKey) : null;
    // A reused Order (the newest row was removed and this one took its number): the old toast is gone.
    const reused = this.tracked.get(order);
    if (reused) {
      this.tracked.delete(order);
      await this.vanished(reused);
    }
    if (!input) return;
    const beepId = await this.sink.accept({ ...input, id: beepIdOf(row), replaces: replaced?.beepId ?? null });
    if (beepId) this.track(order, { beepId, id: row.id, expiry: filetime(row.expiry), replaceKey });
  }

  private track(order: number, entry: Tracked): void {
    this.tracked.delete(order);
    this.tracked.set(order, entry);
    if (this.tracked.size > MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value as number);
  }

  private untrackByKey(key: string): Tracked | null {
    for (const [order, entry] of this.tracked) {
      if (entry.replaceKey !== key) continue;
      this.tracked.delete(order);
      return entry;
    }
    return null;
  }

  /** A toast left the database: dismissed on the PC unless it had expired. */
  private async vanished(entry: Tracked): Promise<void> {
    const nowFiletime = (BigInt(Math.floor(this.now())) + FILETIME_EPOCH_OFFSET_MS) * 10_000n;
    if (entry.expiry !== null && nowFiletime >= entry.expiry) return;
    await this.sink.dismissed(entry.beepId);
  }

  private async dismissRemoved(db: Database.Database): Promise<void> {
    if (this.tracked.size === 0) return;
    const present = new Map(
      (
        db
          .prepare('SELECT "Order" AS "order", Id AS id FROM Notification WHERE "Order" IN (SELECT value FROM json_each(?))')
          .safeIntegers(true)
          .all(JSON.stringify([...this.tracked.keys()])) as { order: bigint; id: bigint }[]
      ).map((r) => [Number(r.order), r.id]),
    );
    for (const [order, entry] of [...this.tracked]) {
      if (present.get(order) === entry.id) continue;
      this.tracked.delete(order);
      await this.vanished(entry);
    }
  }
}
