import type { Db } from './database';

// Refresh tokens and pairing codes, both stored only as SHA-256 hashes.

export interface RefreshTokenRow {
  hash: string;
  device_id: string;
  family: string;
  created_ms: number;
  expires_ms: number;
  used_ms: number | null;
}

export class CredentialRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insertRefresh: db.prepare(
        'INSERT INTO refresh_tokens (hash, device_id, family, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)',
      ),
      refreshByHash: db.prepare('SELECT * FROM refresh_tokens WHERE hash = ?'),
      useRefresh: db.prepare('UPDATE refresh_tokens SET used_ms = ? WHERE hash = ? AND used_ms IS NULL'),
      killFamily: db.prepare('UPDATE refresh_tokens SET used_ms = COALESCE(used_ms, ?), expires_ms = 0 WHERE family = ?'),
      killDevice: db.prepare('DELETE FROM refresh_tokens WHERE device_id = ?'),
      families: db.prepare(
        'SELECT family, MIN(created_ms) AS started FROM refresh_tokens WHERE device_id = ? AND expires_ms > 0 GROUP BY family ORDER BY started DESC, family',
      ),
      dropFamily: db.prepare('DELETE FROM refresh_tokens WHERE family = ?'),
      dropStale: db.prepare('DELETE FROM refresh_tokens WHERE expires_ms < ?'),
      insertCode: db.prepare('INSERT INTO pairing_codes (hash, created_ms, expires_ms, offers_history) VALUES (?, ?, ?, ?)'),
      useCode: db.prepare('UPDATE pairing_codes SET used_ms = ? WHERE hash = ? AND used_ms IS NULL AND expires_ms > ? RETURNING offers_history'),
      dropCodes: db.prepare('DELETE FROM pairing_codes WHERE expires_ms < ?'),
    };
  }

  insertRefreshToken(hash: string, deviceId: string, family: string, nowMs: number, expiresMs: number): void {
    this.stmts.insertRefresh.run(hash, deviceId, family, nowMs, expiresMs);
  }

  refreshToken(hash: string): RefreshTokenRow | undefined {
    return this.stmts.refreshByHash.get(hash) as RefreshTokenRow | undefined;
  }

  /** True only for the first use of a token. */
  markRefreshTokenUsed(hash: string, nowMs: number): boolean {
    return this.stmts.useRefresh.run(nowMs, hash).changes > 0;
  }

  revokeFamily(family: string, nowMs: number): void {
    this.stmts.killFamily.run(nowMs, family);
  }

  /** Inside a write: keeps the device's `max` newest sessions (families); returns the dropped ones. */
  capFamilies(deviceId: string, max: number): string[] {
    const families = (this.stmts.families.all(deviceId) as { family: string }[]).map((r) => r.family);
    const dropped = families.slice(max);
    for (const family of dropped) this.stmts.dropFamily.run(family);
    return dropped;
  }

  revokeDeviceTokens(deviceId: string): void {
    this.stmts.killDevice.run(deviceId);
  }

  insertPairingCode(hash: string, nowMs: number, expiresMs: number, offersHistory: boolean): void {
    this.stmts.insertCode.run(hash, nowMs, expiresMs, offersHistory ? 1 : 0);
  }

  /** Burns a code; null unless it existed, was unused and unexpired (then: may it offer history). */
  consumePairingCode(hash: string, nowMs: number): { offersHistory: boolean } | null {
    const row = this.stmts.useCode.get(nowMs, hash, nowMs) as { offers_history: number } | undefined;
    return row ? { offersHistory: row.offers_history === 1 } : null;
  }

  /** Housekeeping: expired codes and refresh tokens. */
  dropExpired(nowMs: number): void {
    this.stmts.dropCodes.run(nowMs);
    this.stmts.dropStale.run(nowMs - 24 * 3600 * 1000);
  }
}
