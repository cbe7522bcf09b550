import type { AuditAnchor, AuditEvent, AuditInput, AuditKey, AuditRow, ChainFailure, ChainHead, ChainVerdict } from '../domain/audit-chain';
import type { CheckpointRecord } from '../domain/audit-checkpoint';
import { DailyFirstUse, FailureWindows, treatmentOf, windowDetails, type WindowedFailures } from '../domain/audit-policy';
import { verifyAudit } from '../domain/audit-verify';

// The security audit trail: every part reports events here. The event policy (domain/
// audit-policy.ts) decides what becomes an entry; store/ keeps entries in a keyed chain, and
// each committed head goes to the checkpoint file. Recording never blocks or fails the caller:
// a failed append is logged and counted. Retention prunes old entries behind a signed anchor.

/** What the audit log needs from storage; store/ implements it. */
export interface AuditStore {
  /** Appends one entry, MAC'd under `key` and linked inside the write; resolves after COMMIT. */
  appendAudit(input: AuditInput, atMs: number, key: AuditKey): Promise<ChainHead>;
  auditEntries(limit: number, beforeSeq: number | null): Promise<AuditRow[]>;
  auditPage(afterSeq: number, limit: number): Promise<AuditRow[]>;
  auditAnchor(): Promise<AuditAnchor | null>;
  auditCounts(): Promise<{ total: number; keyed: number }>;
  auditRecordedSince(event: AuditEvent, actor: string, sinceMs: number): Promise<boolean>;
  upgradeUnkeyedAudit(key: AuditKey, atMs: number): Promise<{ entries: number; head: ChainHead; legacyBroken: unknown } | null>;
  pruneAudit(cutoffMs: number, maxSeq: number, atMs: number, key: AuditKey): Promise<{ pruned: number; throughSeq: number; head: ChainHead } | null>;
}

/** The checkpoint file (store/audit-checkpoint-file.ts). */
export interface AuditCheckpoint {
  appendHead(head: ChainHead): void;
  read(): { records: CheckpointRecord[]; unreadableLine: number | null } | null;
  compact(head: ChainHead): void;
  size(): number;
}

export interface AuditLogOptions {
  key: AuditKey;
  checkpoint: AuditCheckpoint;
  /** ms of one failure window (wrong credentials: one entry per address per window). */
  failureWindowMs: number;
  /** open windows kept in memory; past it the oldest is written early. */
  maxOpenWindows: number;
  /** ms an entry is kept. */
  retentionMs: number;
  /** ms between maintenance runs (verify, prune, compact the checkpoint file). */
  maintenanceEveryMs: number;
  /** bytes past which a verified checkpoint file is compacted to its head. */
  compactAboveBytes: number;
  now?: () => number;
  /** Told every event, whatever becomes of it (the security-events metric). */
  count?: (event: AuditEvent) => void;
  onError: (error: unknown) => void;
  onNotice?: (message: string, fields: Record<string, unknown>) => void;
  /** Maintenance found the log broken (also answered by `verify`). */
  onBroken?: (verdict: ChainFailure) => void;
}

export interface AuditView {
  /** null for a failure window still open (not yet an entry). */
  seq: number | null;
  at: string;
  event: string;
  actor: string;
  details: Record<string, unknown>;
  mac: string | null;
  pending?: true;
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
  private readonly windows: FailureWindows;
  private readonly daily = new DailyFirstUse();
  private readonly now: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private exclusive: Promise<unknown> = Promise.resolve();
  /** The newest head this process wrote to the checkpoint file (heads only move forward). */
  private written: ChainHead | null = null;
  private stopped = false;

  constructor(
    private readonly store: AuditStore,
    private readonly options: AuditLogOptions,
  ) {
    this.windows = new FailureWindows(options.failureWindowMs, options.maxOpenWindows);
    this.now = options.now ?? Date.now;
  }

  /** Keys an unkeyed chain (first start on this version), then starts the window sweep and maintenance. */
  async open(): Promise<void> {
    const { total, keyed } = await this.store.auditCounts();
    if (keyed < total) {
      const neverKeyed = (this.options.checkpoint.read()?.records.length ?? 0) === 0;
      if (neverKeyed && keyed === 0) {
        try {
          const upgrade = await this.store.upgradeUnkeyedAudit(this.options.key, this.now());
          if (upgrade) this.checkpointed(upgrade.head);
          this.options.onNotice?.('audit log keyed: earlier entries checked and MACed', { entries: upgrade?.entries, legacyBroken: upgrade?.legacyBroken });
        } catch (error) {
          this.options.onError(error); // the daemon still starts; `beep audit verify` reports the entries as unsigned
        }
      } else {
        this.options.onError(new Error('unkeyed entries in a keyed audit log: left as they are; `beep audit verify` names the first'));
      }
    }
    const sweepMs = Math.max(100, Math.min(this.options.failureWindowMs / 4, 60_000));
    this.timers.push(setInterval(() => this.writeWindows(this.windows.due(this.now())), sweepMs));
    this.timers.push(setInterval(() => void this.maintain(), this.options.maintenanceEveryMs));
    for (const t of this.timers) t.unref();
    void this.maintain();
  }

  record(event: AuditEvent, actor: string, details: Record<string, unknown> = {}): Promise<void> {
    this.options.count?.(event);
    const now = this.now();
    switch (treatmentOf(event)) {
      case 'metric_only':
        return Promise.resolve();
      case 'per_window':
        return this.writeWindows(this.windows.add({ event, actor, details }, now));
      case 'daily':
        if (!this.daily.first(actor, now)) return Promise.resolve();
        return this.recordedToday(event, actor, now).then((recorded) => (recorded ? undefined : this.append({ event, actor, details })));
      default:
        return this.append({ event, actor, details });
    }
  }

  /** Newest first; without `beforeSeq`, the open failure windows (pending, not yet entries) come first. */
  async list(limit: number, beforeSeq: number | null): Promise<AuditView[]> {
    const open: AuditView[] =
      beforeSeq === null
        ? this.windows.peek().slice(0, limit).map((w) => ({ seq: null, at: new Date(w.lastMs).toISOString(), event: w.event, actor: w.actor, details: windowDetails(w), mac: null, pending: true }))
        : [];
    const rows = await this.store.auditEntries(limit, beforeSeq);
    return open.concat(
      rows.map((r) => ({ seq: r.seq, at: new Date(r.at_ms).toISOString(), event: r.event, actor: r.actor, details: parseDetails(r.details), mac: r.mac })),
    );
  }

  /** The whole chain, held to the checkpoint file's head; names the first bad entry. */
  verify(): Promise<ChainVerdict> {
    return this.exclusively(() => this.verifyNow());
  }

  /** Verifies, prunes what retention lets go (never past a bad entry), compacts a verified checkpoint file. */
  maintain(): Promise<void> {
    return this.exclusively(async () => {
      const verdict = await this.verifyNow();
      if (!verdict.ok) this.options.onBroken?.(verdict);
      const now = this.now();
      const maxSeq = verdict.ok ? (verdict.head?.seq ?? 0) : verdict.seq - 1;
      const pruned = maxSeq > 0 ? await this.store.pruneAudit(now - this.options.retentionMs, maxSeq, now, this.options.key) : null;
      if (pruned) {
        this.checkpointed(pruned.head);
        this.options.onNotice?.('audit entries past retention pruned', { entries: pruned.pruned, throughSeq: pruned.throughSeq });
      }
      const newest = [this.written, verdict.ok ? verdict.head : null].reduce((a, b) => (b && (!a || b.seq > a.seq) ? b : a), null);
      if (verdict.ok && newest && (pruned || this.options.checkpoint.size() > this.options.compactAboveBytes)) this.options.checkpoint.compact(newest);
    }).catch((error: unknown) => {
      if (!this.stopped) this.options.onError(error);
    });
  }

  /** Writes the open failure windows and stops the timers; the store may close after this. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.stopped = true;
    await this.writeWindows(this.windows.drain());
    await this.exclusive.catch(() => undefined);
  }

  private async verifyNow(): Promise<ChainVerdict> {
    const verdict = await this.verifyOnce();
    // The first entry of a new log may commit (and start the file) while the walk reads: look again.
    if (!verdict.ok && verdict.problem === 'checkpoint_missing' && this.options.checkpoint.read()) return this.verifyOnce();
    return verdict;
  }

  private verifyOnce(): Promise<ChainVerdict> {
    const checkpoint = this.options.checkpoint.read(); // before the entries: a head read later is never missed
    const source = {
      anchor: () => this.store.auditAnchor(),
      page: (afterSeq: number, limit: number) => {
        if (this.stopped) throw new Error('the audit log is stopping');
        return this.store.auditPage(afterSeq, limit);
      },
    };
    return verifyAudit(source, { key: this.options.key, checkpoint: checkpoint?.records ?? null, unreadableLine: checkpoint?.unreadableLine, useCheckpoint: true });
  }

  private writeWindows(windows: WindowedFailures[]): Promise<void> {
    return Promise.all(windows.map((w) => this.append({ event: w.event, actor: w.actor, details: windowDetails(w) }))).then(() => undefined);
  }

  private recordedToday(event: AuditEvent, actor: string, now: number): Promise<boolean> {
    return this.store.auditRecordedSince(event, actor, DailyFirstUse.dayStart(now)).catch((error: unknown) => {
      this.options.onError(error);
      return false; // across restarts
    });
  }

  private append(input: AuditInput): Promise<void> {
    return this.store
      .appendAudit(input, this.now(), this.options.key)
      .then((head) => this.checkpointed(head))
      .catch(this.options.onError);
  }

  /** Writes a committed head to the checkpoint file; a head older than one already written adds nothing. */
  private checkpointed(head: ChainHead): void {
    if (this.written && head.seq <= this.written.seq) return;
    this.options.checkpoint.appendHead(head);
    this.written = head;
  }

  private exclusively<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => undefined);
    return run;
  }
}
