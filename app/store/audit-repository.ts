import { entryHash, GENESIS_HASH, type AuditInput, type AuditRow } from '../domain/audit-chain';
import type { Db } from './database';
import type { ReadPool } from './read-pool';

// The audit_log table: appends run inside the group writer's transaction (the chain link is
// read in the same transaction, so it can never fork); reads and verification on the pool.

export class AuditRepository {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly pool: ReadPool,
  ) {
    this.stmts = {
      last: db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      next: db.prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0) + 1 AS seq"),
      insert: db.prepare(
        'INSERT INTO audit_log (seq, at_ms, event, actor, details, prev_hash, hash) VALUES (@seq, @at_ms, @event, @actor, @details, @prev_hash, @hash)',
      ),
      lastOf: db.prepare('SELECT details FROM audit_log WHERE event = ? ORDER BY seq DESC LIMIT 1'),
    };
  }

  /** Inside a write: appends one entry linked to the last. */
  append(input: AuditInput, atMs: number): number {
    const last = this.stmts.last.get() as { seq: number; hash: string } | undefined;
    const { seq } = this.stmts.next.get() as { seq: number };
    const row = { seq, at_ms: atMs, event: input.event, actor: input.actor, details: JSON.stringify(input.details) };
    const prevHash = last?.hash ?? GENESIS_HASH;
    this.stmts.insert.run({ ...row, prev_hash: prevHash, hash: entryHash(prevHash, row) });
    return seq;
  }

  /** The details of the newest entry of an event (main connection; small). */
  lastDetails(event: string): Record<string, unknown> | undefined {
    const row = this.stmts.lastOf.get(event) as { details: string } | undefined;
    return row ? (JSON.parse(row.details) as Record<string, unknown>) : undefined;
  }

  /** Newest first, for the admin API. */
  list(limit: number, beforeSeq: number | null): Promise<AuditRow[]> {
    return this.pool.all<AuditRow>('SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?', [
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit,
    ]);
  }

  /** Every entry in order, for verification (off the main thread). */
  all(): Promise<AuditRow[]> {
    return this.pool.all<AuditRow>('SELECT * FROM audit_log ORDER BY seq');
  }
}
