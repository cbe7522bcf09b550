import type { DeviceRecord } from '../domain/device';
import type { Db } from './database';
import { aadOf, DEVICE_COLUMNS, toDevice, type DeviceRow, type FieldSealer } from './rows';

// Devices: enrolment (with the progress row delivery starts from), names, revocation, topic
// filters, the history owed at pairing. Delivery's progress is store/delivery-store.ts's.

export class DeviceRepository {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly sealer: FieldSealer,
  ) {
    this.stmts = {
      all: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE revoked_at IS NULL ORDER BY paired_at`),
      byId: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`),
      insert: db.prepare(
        'INSERT INTO devices (id, name, platform, paired_at, paired_seq, topics, history_from_ms) VALUES (@id, @name, @platform, @pairedAt, @pairedSeq, @topics, @historyFromMs)',
      ),
      insertProgress: db.prepare('INSERT INTO device_progress (device_id, watermark, dismiss_cursor) VALUES (?, ?, ?)'),
      revoke: db.prepare('UPDATE devices SET revoked_at = ?, token_gen = token_gen + 1 WHERE id = ? AND revoked_at IS NULL'),
      rename: db.prepare('UPDATE devices SET name = ? WHERE id = ? AND revoked_at IS NULL'),
      bumpGen: db.prepare('UPDATE devices SET token_gen = token_gen + 1 WHERE id = ?'),
      setTopics: db.prepare('UPDATE devices SET topics = ? WHERE id = ? AND revoked_at IS NULL'),
      owedHistory: db.prepare(
        'SELECT history_from_ms AS fromMs, paired_seq AS pairedSeq, topics FROM devices WHERE id = ? AND history_from_ms IS NOT NULL AND revoked_at IS NULL',
      ),
      clearHistory: db.prepare('UPDATE devices SET history_from_ms = NULL WHERE id = ?'),
      lastDismissal: db.prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'dismissals'), 0) AS seq"),
    };
  }

  /** Every device not revoked (main connection: small, read at start and on pairing). */
  active(): DeviceRecord[] {
    return (this.stmts.all.all() as DeviceRow[]).map((r) => toDevice(r, this.sealer));
  }

  byId(id: string): DeviceRecord | undefined {
    const row = this.stmts.byId.get(id) as DeviceRow | undefined;
    return row ? toDevice(row, this.sealer) : undefined;
  }

  /** Inside a write: a new device owed everything after `pairedSeq`. */
  insert(device: { id: string; name: string; platform: string; pairedAt: string; pairedSeq: number; topics?: string[] | null; historyFromMs?: number | null }): void {
    this.stmts.insert.run({
      ...device,
      name: this.sealer.seal(device.name, aadOf('devices', 'name', device.id)),
      topics: device.topics ? JSON.stringify(device.topics) : null,
      historyFromMs: device.historyFromMs ?? null,
    });
    const cursor = (this.stmts.lastDismissal.get() as { seq: number }).seq;
    this.stmts.insertProgress.run(device.id, device.pairedSeq, cursor);
  }

  /** Inside a write: marks it revoked and invalidates its access tokens; false if unknown. */
  revoke(id: string, now: Date): boolean {
    return this.stmts.revoke.run(now.toISOString(), id).changes > 0;
  }

  /** Inside a write: false when unknown or revoked. */
  rename(id: string, name: string): boolean {
    return this.stmts.rename.run(this.sealer.seal(name, aadOf('devices', 'name', id)), id).changes > 0;
  }

  /** Inside a write: invalidates every access token issued so far. */
  bumpTokenGeneration(id: string): void {
    this.stmts.bumpGen.run(id);
  }

  /** Inside a write: the history a device is owed (once: cleared here), or undefined. */
  takeHistory(id: string): { fromMs: number; pairedSeq: number; topics: string[] | null } | undefined {
    const row = this.stmts.owedHistory.get(id) as { fromMs: number; pairedSeq: number; topics: string | null } | undefined;
    if (row) this.stmts.clearHistory.run(id);
    return row ? { fromMs: row.fromMs, pairedSeq: row.pairedSeq, topics: row.topics ? (JSON.parse(row.topics) as string[]) : null } : undefined;
  }

  /** Inside a write: the device's topic filter (null = every topic); false if unknown or revoked. */
  setTopics(id: string, topics: string[] | null): boolean {
    return this.stmts.setTopics.run(topics ? JSON.stringify(topics) : null, id).changes > 0;
  }
}
