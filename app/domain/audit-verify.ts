import { ChainWalker, LegacyWalker, type AuditAnchor, type AuditKey, type AuditRow, type ChainFailure, type ChainVerdict } from './audit-chain';
import { checkpointHead, type CheckpointRecord } from './audit-checkpoint';

// Verification of the whole audit log, page by page, from whatever holds the entries: the
// daemon's read pool or, in `beep audit verify` and `beep restore`, the database file itself.

/** Where the entries come from (sync or async). */
export interface AuditSource {
  anchor(): AuditAnchor | null | Promise<AuditAnchor | null>;
  /** Entries with seq > afterSeq, in seq order, at most `limit`. */
  page(afterSeq: number, limit: number): AuditRow[] | Promise<AuditRow[]>;
}

export interface VerifyInputs {
  /** The audit key; null when this data directory never had one (an unkeyed, pre-upgrade log). */
  key: AuditKey | null;
  /** The checkpoint file's records; null when the file does not exist. */
  checkpoint: CheckpointRecord[] | null;
  /** The checkpoint file's first unreadable line, if any. */
  unreadableLine?: number | null;
  /** false when there is no checkpoint to hold the entries to (a backup being restored). */
  useCheckpoint: boolean;
}

/** Entries verified per read: bounds memory for a log of any length. */
const PAGE = 1_000;

/**
 * The first bad entry and why, or how many entries verified.
 *
 *   await verifyAudit(source, { key, checkpoint, useCheckpoint: true })
 *   // { ok: false, seq: 7, problem: 'altered', ... } when entry 7 was edited
 */
export async function verifyAudit(source: AuditSource, inputs: VerifyInputs): Promise<ChainVerdict> {
  const anchor = await source.anchor();
  if (!inputs.key) return verifyUnkeyed(source, inputs, anchor);
  const walker = new ChainWalker(inputs.key, anchor);
  // A checkpoint problem names an entry too; whichever comes first in the chain is reported.
  let early: ChainFailure | null = null;
  let unreadable = false;
  if (inputs.useCheckpoint) {
    if (inputs.unreadableLine) unreadable = true;
    else if (inputs.checkpoint) {
      const promised = checkpointHead(inputs.key, inputs.checkpoint);
      if ('failure' in promised) early = promised.failure;
      else if (promised.head) walker.expectHead(promised.head);
    }
  }
  let after = anchor?.seq ?? 0;
  for (;;) {
    const rows = await source.page(after, PAGE);
    for (const row of rows) {
      if (early && row.seq >= early.seq) return { ...early, checked: walker.checked };
      if (!walker.feed(row)) return walker.finish();
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1].seq;
  }
  const verdict = walker.finish();
  if (!verdict.ok) return verdict;
  const next = (verdict.head?.seq ?? anchor?.seq ?? 0) + 1;
  if (early) return { ...early, checked: walker.checked };
  if (unreadable) return { ok: false, checked: walker.checked, seq: next, problem: 'checkpoint_forged', detail: `line ${inputs.unreadableLine} of the checkpoint file is unreadable` };
  if (inputs.useCheckpoint && !inputs.checkpoint && verdict.checked > 0) {
    return { ok: false, checked: 0, seq: verdict.firstSeq!, problem: 'checkpoint_missing', detail: 'keyed entries exist but the checkpoint file audit.checkpoint does not' };
  }
  return verdict;
}

/** A log from before the key: the old hash chain, if nothing says this directory was ever keyed. */
async function verifyUnkeyed(source: AuditSource, inputs: VerifyInputs, anchor: AuditAnchor | null): Promise<ChainVerdict> {
  if (anchor || inputs.checkpoint) throw new Error('the audit key (keys/audit.key) is missing: the audit log cannot be verified without it');
  const walker = new LegacyWalker();
  let after = 0;
  for (;;) {
    const rows = await source.page(after, PAGE);
    for (const row of rows) {
      if (row.mac !== null) throw new Error('the audit key (keys/audit.key) is missing: the audit log cannot be verified without it');
      if (!walker.feed(row)) {
        const { seq, problem } = walker.failure!;
        const detail = problem === 'relinked' ? 'its link to the entry before it was changed' : problem === 'missing' ? `entry ${seq} is gone` : 'its hash does not match its fields';
        return { ok: false, checked: walker.checked, seq, problem: problem === 'relinked' ? 'altered' : problem, detail };
      }
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1].seq;
  }
  return { ok: true, checked: walker.checked, firstSeq: walker.checked > 0 ? 1 : null, head: null, unkeyed: true };
}
