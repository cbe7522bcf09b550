import type { Db } from './database';
import type { GroupWriter } from './group-writer';
import { aadOf, type FieldSealer } from './rows';

// The dashboard password hash and (sealed) TOTP secret on SQLite, one row: set through the
// group writer, read on the main connection and answered as a promise.

/** The stored dashboard credentials; undefined when no password is set. */
export interface AdminCredentials {
  passwordHash: string;
  totpSecret: string | null;
}

const TOTP_AAD = aadOf('admin_credentials', 'totp_secret', '1');

/** What the password routes, the dashboard login and the Gotify login need. */
export class SqliteAdminCredentials {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly writer: GroupWriter,
    private readonly sealer: FieldSealer,
  ) {
    this.stmts = {
      get: db.prepare('SELECT password_hash, totp_secret FROM admin_credentials WHERE id = 1'),
      set: db.prepare(
        `INSERT INTO admin_credentials (id, password_hash, totp_secret, updated_ms) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, totp_secret = excluded.totp_secret, updated_ms = excluded.updated_ms`,
      ),
    };
  }

  /** Stores the password hash and TOTP secret (sealed); null secret = no second factor. */
  setAdminCredentials(passwordHash: string, totpSecret: string | null): Promise<void> {
    return this.writer.run(() => {
      const sealed = totpSecret === null ? null : this.sealer.seal(totpSecret, TOTP_AAD);
      this.stmts.set.run(passwordHash, sealed, Date.now());
    });
  }

  /** The credentials, TOTP secret opened; undefined when no password is set. */
  async adminCredentials(): Promise<AdminCredentials | undefined> {
    const row = this.stmts.get.get() as { password_hash: string; totp_secret: string | null } | undefined;
    if (!row) return undefined;
    const totpSecret = row.totp_secret === null ? null : this.sealer.open(row.totp_secret, TOTP_AAD);
    return { passwordHash: row.password_hash, totpSecret };
  }
}
