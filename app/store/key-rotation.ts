import type { Db } from './database';
import type { GroupWriter } from './group-writer';
import { resealRow, type SealedColumns } from './row-seal';
import { aadOf, type FieldSealer } from './rows';
import { scheduledAad } from './scheduled-store';

// Online data-key rotation: every sealed value is re-encrypted under the new key in small
// batches that share the group writer with ingest, so the daemon keeps serving (a notification
// row still in the four-seal format leaves it in the one-seal format, row-seal.ts). The progress
// row is saved in each batch's transaction: killed at any moment, it resumes where it stopped,
// and values written meanwhile are already under the new key. Old keys go only at the end.

/** The sealer plus the ring operations a rotation needs; crypto/FieldCipher implements it. */
export interface RotatingSealer extends FieldSealer {
  use(id: string): void;
  drop(id: string): void;
}

export interface RotationProgress {
  running: boolean;
  keyId: string;
  phase: string | null;
  done: number;
  total: number;
}

interface RotationRow {
  target_key: string;
  phase: 'notifications' | 'devices' | 'attachments' | 'admin';
  cursor: string;
  done: number;
  total: number;
}

export interface KeyRotationOptions {
  batchSize: number;
  pauseMs: number;
  onFinished?: (keyId: string, total: number) => void;
  onError?: (error: unknown) => void;
  /** Attachment files (store/AttachmentFiles): re-encrypted under the new key between the devices and the end, off the writer. */
  files?: { rekey(targetKeyId: string): Promise<number> };
}

export class KeyRotation {
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly writer: GroupWriter,
    private readonly sealer: RotatingSealer,
    private readonly options: KeyRotationOptions,
  ) {}

  progress(): RotationProgress {
    const row = this.row();
    if (!row) return { running: false, keyId: this.sealer.currentKeyId(), phase: null, done: 0, total: 0 };
    return { running: true, keyId: row.target_key, phase: row.phase, done: row.done, total: Math.max(row.total, row.done) };
  }

  /** Stores the new (wrapped) key, makes it current and starts moving values; joins a running rotation. */
  async start(key: { id: string; wrapped: string }, addToRing: () => void): Promise<RotationProgress> {
    if (!this.row()) {
      addToRing();
      await this.writer.run(
        (db) => {
          if (this.row()) return;
          db.prepare('INSERT INTO data_keys (id, wrapped, created_ms) VALUES (?, ?, ?)').run(key.id, key.wrapped, Date.now());
          const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
          const total = count('SELECT COUNT(*) AS n FROM notifications') + count('SELECT COUNT(*) AS n FROM devices');
          db.prepare(
            "INSERT INTO key_rotation (id, target_key, phase, cursor, done, total, started_ms) VALUES (1, ?, 'notifications', '0', 0, ?, ?)",
          ).run(key.id, total, Date.now());
        },
        () => this.sealer.use(this.row()?.target_key ?? key.id),
      );
    }
    this.resume();
    return this.progress();
  }

  /** Continues a rotation found at start (or just begun); a no-op when none is pending. */
  resume(): void {
    const row = this.row();
    if (!row || this.running) return;
    this.sealer.use(row.target_key);
    this.running = true;
    void this.loop()
      .catch((error) => this.options.onError?.(error))
      .finally(() => (this.running = false));
  }

  private async loop(): Promise<void> {
    for (;;) {
      const row = this.row();
      if (row?.phase === 'attachments') {
        // Files are streamed, not re-sealed in a transaction: each is renamed over its old self when whole.
        const moved = (await this.options.files?.rekey(row.target_key)) ?? 0;
        await this.writer.run((db) => void db.prepare("UPDATE key_rotation SET phase = 'admin', cursor = '', done = done + ? WHERE id = 1").run(moved));
        continue;
      }
      const finished = await this.writer.run(() => this.step());
      if (finished) {
        for (const id of finished.retired) this.sealer.drop(id);
        this.options.onFinished?.(finished.keyId, finished.total);
        return;
      }
      if (this.options.pauseMs > 0) await new Promise((r) => setTimeout(r, this.options.pauseMs));
    }
  }

  /** One batch, inside a transaction; returns what finished, or null while work remains. */
  private step(): { keyId: string; total: number; retired: string[] } | null {
    const r = this.row();
    if (!r) return { keyId: this.sealer.currentKeyId(), total: 0, retired: [] };
    const reseal = (value: string, aad: string) =>
      this.sealer.keyIdOf(value) === r.target_key ? value : this.sealer.seal(this.sealer.open(value, aad), aad);
    const save = (phase: string, cursor: string, moved: number) =>
      this.db.prepare('UPDATE key_rotation SET phase = ?, cursor = ?, done = done + ? WHERE id = 1').run(phase, cursor, moved);

    if (r.phase === 'notifications') {
      const rows = this.db
        .prepare('SELECT seq, id, sealed, title, body, app, tags, url, icon FROM notifications WHERE seq > ? ORDER BY seq LIMIT ?')
        .all(Number(r.cursor), this.options.batchSize) as (SealedColumns & { seq: number })[];
      if (rows.length === 0) return save('devices', '', 0), null;
      const update = this.db.prepare(
        'UPDATE notifications SET sealed = @sealed, title = @title, body = @body, app = @app, tags = @tags, url = @url, icon = @icon WHERE seq = @seq',
      );
      for (const row of rows) {
        const columns = resealRow(this.sealer, row);
        if (columns) update.run({ ...columns, seq: row.seq });
      }
      save('notifications', String(rows[rows.length - 1].seq), rows.length);
      return null;
    }
    if (r.phase === 'devices') {
      const rows = this.db
        .prepare('SELECT id, name FROM devices WHERE id > ? ORDER BY id LIMIT ?')
        .all(r.cursor, this.options.batchSize) as { id: string; name: string }[];
      if (rows.length === 0) return save(this.options.files ? 'attachments' : 'admin', '', 0), null;
      const update = this.db.prepare('UPDATE devices SET name = ? WHERE id = ?');
      for (const row of rows) update.run(reseal(row.name, aadOf('devices', 'name', row.id)), row.id);
      save('devices', rows[rows.length - 1].id, rows.length);
      return null;
    }
    const admin = this.db.prepare('SELECT totp_secret FROM admin_credentials WHERE id = 1').get() as { totp_secret: string | null } | undefined;
    if (admin?.totp_secret) {
      const secret = reseal(admin.totp_secret, aadOf('admin_credentials', 'totp_secret', '1'));
      this.db.prepare('UPDATE admin_credentials SET totp_secret = ? WHERE id = 1').run(secret);
    }
    // Scheduled notifications wait three days at most: few, re-sealed in this last step.
    const scheduled = this.db.prepare('SELECT id, sealed FROM scheduled_notifications').all() as { id: string; sealed: string }[];
    const reschedule = this.db.prepare('UPDATE scheduled_notifications SET sealed = ? WHERE id = ?');
    for (const row of scheduled) reschedule.run(reseal(row.sealed, scheduledAad(row.id)), row.id);
    const retired = (this.db.prepare('SELECT id FROM data_keys WHERE id != ?').all(r.target_key) as { id: string }[]).map((k) => k.id);
    this.db.prepare('DELETE FROM data_keys WHERE id != ?').run(r.target_key);
    this.db.prepare('DELETE FROM key_rotation WHERE id = 1').run();
    return { keyId: r.target_key, total: r.total, retired };
  }

  private row(): RotationRow | undefined {
    return this.db.prepare('SELECT target_key, phase, cursor, done, total FROM key_rotation WHERE id = 1').get() as RotationRow | undefined;
  }
}
