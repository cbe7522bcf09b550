import {
  GENESIS_HASH,
  LegacyWalker,
  type AuditAnchor,
  type AuditInput,
  type AuditKey,
  type AuditRow,
  type ChainHead,
} from '../domain/audit-chain';
import type { AuditSource } from '../domain/audit-verify';
import type { Db } from './database';
import type { ReadPool } from './read-pool';

// The audit_log table and its prune anchor. Appends, the upgrade of an unkeyed chain and
// pruning run inside the group writer's transaction (the chain link is read in the same
// transaction, so it can never fork); listing and verification read on the pool.

/** Entries read per step by the upgrade. */
const UPGRADE_PAGE = 1_000;

/** What the one-time upgrade of an unkeyed chain did. */
export interface UpgradeOutcome {
  entries: number;
  head: ChainHead;
  legacyBroken: { seq: number; problem: string } | null;
}

/** What a prune removed, and the head after its `audit_pruned` entry. */
export interface PruneOutcome {
  pruned: number;
  throughSeq: number;
  head: ChainHead;
}

/** Rows as stored, `mac` null where the column is still absent (a database not yet migrated). */
function normalise(rows: AuditRow[]): AuditRow[] {
  for (const row of rows) row.mac ??= null;
  return rows;
}

export class AuditRepository {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly pool: ReadPool | null,
  ) {
    this.stmts = {
      last: db.prepare('SELECT seq, hash, mac FROM audit_log ORDER BY seq DESC LIMIT 1'),
      next: db.prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0) + 1 AS seq"),
      insert: db.prepare(
        "INSERT INTO audit_log (seq, at_ms, event, actor, details, prev_hash, hash, mac) VALUES (@seq, @at_ms, @event, @actor, @details, '', '', @mac)",
      ),
      anchor: db.prepare('SELECT seq, mac, sig FROM audit_anchor WHERE id = 1'),
      setAnchor: db.prepare(
        `INSERT INTO audit_anchor (id, seq, mac, sig, at_ms) VALUES (1, @seq, @mac, @sig, @at_ms)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, sig = excluded.sig, at_ms = excluded.at_ms`,
      ),
      page: db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?'),
      setMac: db.prepare('UPDATE audit_log SET mac = ? WHERE seq = ? AND mac IS NULL'),
      counts: db.prepare('SELECT count(*) AS total, count(mac) AS keyed FROM audit_log'),
      lastOf: db.prepare('SELECT details FROM audit_log WHERE event = ? ORDER BY seq DESC LIMIT 1'),
      since: db.prepare('SELECT 1 FROM audit_log WHERE event = ? AND actor = ? AND at_ms >= ? LIMIT 1'),
      firstFresh: db.prepare('SELECT min(seq) AS seq FROM audit_log WHERE at_ms >= ?'),
      entry: db.prepare('SELECT seq, mac FROM audit_log WHERE seq = ?'),
      countThrough: db.prepare('SELECT count(*) AS n FROM audit_log WHERE seq <= ?'),
      deleteThrough: db.prepare('DELETE FROM audit_log WHERE seq <= ?'),
    };
  }

  /** Inside a write: appends one entry, MAC'd and linked to the last (or to the prune anchor). */
  append(input: AuditInput, atMs: number, key: AuditKey): ChainHead {
    const last = this.stmts.last.get() as { seq: number; hash: string; mac: string | null } | undefined;
    const { seq } = this.stmts.next.get() as { seq: number };
    const prevMac = last ? (last.mac ?? last.hash) : (this.anchor()?.mac ?? GENESIS_HASH);
    const row = { seq, at_ms: atMs, event: input.event, actor: input.actor, details: JSON.stringify(input.details) };
    const mac = key.entryMac(prevMac, row);
    this.stmts.insert.run({ ...row, mac });
    return { seq, mac };
  }

  /** The signed prune anchor, if entries were ever pruned. */
  anchor(): AuditAnchor | null {
    return (this.stmts.anchor.get() as AuditAnchor | undefined) ?? null;
  }

  /** How many entries there are, and how many carry a MAC. */
  counts(): { total: number; keyed: number } {
    return this.stmts.counts.get() as { total: number; keyed: number };
  }

  /**
   * Inside a write: checks the unkeyed chain once, MACs every entry in place (chained from the
   * genesis, exactly as new entries are) and appends `audit_chain_keyed` naming its old head.
   */
  upgradeUnkeyed(key: AuditKey, atMs: number): UpgradeOutcome | null {
    const { total, keyed } = this.counts();
    if (total === 0 || keyed === total) return null;
    if (keyed > 0) throw new Error('the audit log mixes keyed and unkeyed entries; it is not upgraded (`beep audit verify` names the first)');
    const legacy = new LegacyWalker();
    let prevMac = GENESIS_HASH;
    let lastHash = GENESIS_HASH;
    let after = 0;
    for (;;) {
      const rows = this.stmts.page.all(after, UPGRADE_PAGE) as AuditRow[];
      for (const row of rows) {
        if (!legacy.failure) legacy.feed(row);
        prevMac = key.entryMac(prevMac, row);
        this.stmts.setMac.run(prevMac, row.seq);
        lastHash = row.hash;
      }
      if (rows.length < UPGRADE_PAGE) break;
      after = rows[rows.length - 1].seq;
    }
    const legacyBroken = legacy.failure;
    const details = { legacyEntries: total, legacyHead: lastHash, ...(legacyBroken ? { legacyBroken } : {}) };
    const head = this.append({ event: 'audit_chain_keyed', actor: 'system', details }, atMs, key);
    return { entries: total, head, legacyBroken };
  }

  /**
   * Inside a write: removes the oldest entries recorded before `cutoffMs` (never past
   * `maxSeq`, the last entry verification vouched for), records the signed anchor they leave
   * behind, and appends `audit_pruned`.
   */
  prune(cutoffMs: number, maxSeq: number, atMs: number, key: AuditKey): PruneOutcome | null {
    const fresh = (this.stmts.firstFresh.get(cutoffMs) as { seq: number | null }).seq;
    const through = Math.min(fresh === null ? Number.MAX_SAFE_INTEGER : fresh - 1, maxSeq);
    const last = this.stmts.entry.get(through) as { seq: number; mac: string | null } | undefined;
    if (!last?.mac) return null; // nothing old enough, or not a keyed entry: keep everything
    const pruned = (this.stmts.countThrough.get(through) as { n: number }).n;
    this.stmts.setAnchor.run({ seq: last.seq, mac: last.mac, sig: key.sign('anchor', [last.seq, last.mac]), at_ms: atMs });
    this.stmts.deleteThrough.run(through);
    const details = { throughSeq: through, entries: pruned, olderThan: new Date(cutoffMs).toISOString() };
    const head = this.append({ event: 'audit_pruned', actor: 'system', details }, atMs, key);
    return { pruned, throughSeq: through, head };
  }

  /** The details of the newest entry of an event (main connection; small); an unreadable (edited) one counts as none. */
  lastDetails(event: string): Record<string, unknown> | undefined {
    const row = this.stmts.lastOf.get(event) as { details: string } | undefined;
    try {
      return row ? (JSON.parse(row.details) as Record<string, unknown>) : undefined;
    } catch {
      return undefined; // `beep audit verify` names the entry; the daemon still starts
    }
  }

  /** Whether `actor` has an `event` entry at or after `sinceMs` (indexed; main connection). */
  recordedSince(event: string, actor: string, sinceMs: number): boolean {
    return this.stmts.since.get(event, actor, sinceMs) !== undefined;
  }

  /** Newest first, for the admin API. */
  list(limit: number, beforeSeq: number | null): Promise<AuditRow[]> {
    return this.readPool()
      .all<AuditRow>('SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?', [beforeSeq ?? Number.MAX_SAFE_INTEGER, limit])
      .then(normalise);
  }

  /**
   * Entries after `afterSeq` in order, for verification: on the main connection, one page per
   * event-loop turn (an indexed range, about a millisecond per thousand rows, and the check
   * itself runs here anyway), so the start-up check of an idle daemon spawns no read worker.
   */
  async page(afterSeq: number, limit: number): Promise<AuditRow[]> {
    await new Promise((resolve) => setImmediate(resolve));
    return normalise(this.stmts.page.all(afterSeq, limit) as AuditRow[]);
  }

  private readPool(): ReadPool {
    if (!this.pool) throw new Error('this audit repository has no read pool');
    return this.pool;
  }
}

/**
 * The entries of a database file opened directly (`beep audit verify`, `beep restore`), also
 * one the daemon has not migrated yet (no `mac` column, no anchor table).
 */
export function auditSourceOf(db: Db): AuditSource {
  const hasAnchorTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_anchor'").get() !== undefined;
  const page = db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?');
  return {
    anchor: () => (hasAnchorTable ? ((db.prepare('SELECT seq, mac, sig FROM audit_anchor WHERE id = 1').get() as AuditAnchor | undefined) ?? null) : null),
    page: (afterSeq, limit) => normalise(page.all(afterSeq, limit) as AuditRow[]),
  };
}
