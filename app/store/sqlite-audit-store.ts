import type { AuditAnchor, AuditEvent, AuditInput, AuditKey, AuditRow, ChainHead } from '../domain/audit-chain';
import type { AuditStore } from '../observability/audit-log';
import type { AuditRepository, PruneOutcome, UpgradeOutcome } from './audit-repository';
import type { GroupWriter } from './group-writer';

// The audit chain on SQLite: appends, the keying of an old chain and retention are writes of a
// group commit; pages for verification and the admin list run on the read pool; the small
// lookups (anchor, counts, "recorded today?", the last config fingerprint) read the main
// connection and answer as promises, as a shared store would.

/** What the audit log (observability/audit-log.ts) and the config check (composition/config-audit.ts) need. */
export class SqliteAuditStore implements AuditStore {
  constructor(
    private readonly writer: GroupWriter,
    private readonly audit: AuditRepository,
  ) {}

  appendAudit(input: AuditInput, atMs: number, key: AuditKey): Promise<ChainHead> {
    return this.writer.run(() => this.audit.append(input, atMs, key));
  }

  auditEntries(limit: number, beforeSeq: number | null): Promise<AuditRow[]> {
    return this.audit.list(limit, beforeSeq);
  }

  auditPage(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return this.audit.page(afterSeq, limit);
  }

  async auditAnchor(): Promise<AuditAnchor | null> {
    return this.audit.anchor();
  }

  async auditCounts(): Promise<{ total: number; keyed: number }> {
    return this.audit.counts();
  }

  async auditRecordedSince(event: AuditEvent, actor: string, sinceMs: number): Promise<boolean> {
    return this.audit.recordedSince(event, actor, sinceMs);
  }

  upgradeUnkeyedAudit(key: AuditKey, atMs: number): Promise<UpgradeOutcome | null> {
    return this.writer.run(() => this.audit.upgradeUnkeyed(key, atMs));
  }

  pruneAudit(cutoffMs: number, maxSeq: number, atMs: number, key: AuditKey): Promise<PruneOutcome | null> {
    return this.writer.run(() => this.audit.prune(cutoffMs, maxSeq, atMs, key));
  }

  /** The newest details recorded for an event (e.g. the last config fingerprint). */
  async lastAuditDetails(event: AuditEvent): Promise<Record<string, unknown> | undefined> {
    return this.audit.lastDetails(event);
  }
}
