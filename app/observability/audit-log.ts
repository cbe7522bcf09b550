import { verifyChain, type AuditEvent, type AuditRow, type ChainVerdict } from '../domain/audit-chain';

// The security audit trail: every part reports events here; store/ keeps them hash-chained.
// Recording never blocks or fails the caller: a failed append is logged and counted.

/** What the audit log needs from storage; store/ implements it. */
export interface AuditStore {
  appendAudit(event: AuditEvent, actor: string, details: Record<string, unknown>): Promise<void>;
  auditEntries(limit: number, beforeSeq: number | null): Promise<AuditRow[]>;
  allAuditEntries(): Promise<AuditRow[]>;
}

export interface AuditView {
  seq: number;
  at: string;
  event: string;
  actor: string;
  details: Record<string, unknown>;
  hash: string;
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unreadable: true }; // an edited row; `verify` names it
  }
}

/**
 * Records security events; details carry ids, addresses and reason codes, never secrets.
 *
 *   audit.record('pairing_failed', `ip:${ip}`, { reason: 'pairing_code_invalid' });
 */
export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly onError: (error: unknown) => void,
  ) {}

  record(event: AuditEvent, actor: string, details: Record<string, unknown> = {}): Promise<void> {
    return this.store.appendAudit(event, actor, details).catch(this.onError);
  }

  async list(limit: number, beforeSeq: number | null): Promise<AuditView[]> {
    const rows = await this.store.auditEntries(limit, beforeSeq);
    return rows.map((r) => ({
      seq: r.seq,
      at: new Date(r.at_ms).toISOString(),
      event: r.event,
      actor: r.actor,
      details: parseDetails(r.details),
      hash: r.hash,
    }));
  }

  async verify(): Promise<ChainVerdict> {
    return verifyChain(await this.store.allAuditEntries());
  }
}
