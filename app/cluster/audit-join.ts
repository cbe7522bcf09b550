import type { AuditKey, ChainVerdict } from '../domain/audit-chain';
import { verifyAudit } from '../domain/audit-verify';
import type { AuditCheckpoint } from '../observability/audit-log';
import type { RedisAuditStore } from './redis-audit-store';

// A node joining a cluster whose audit chain already has entries has no checkpoint file yet
// (store/audit-checkpoint-file.ts records only the heads this node writes), and the verifier
// reports keyed entries without a checkpoint as `checkpoint_missing`. Before the audit log opens,
// the chain is verified once without a checkpoint and, when whole, its head starts this node's
// file (trust on first use: from then on, a cut below that head is caught on this node too).

/** Starts this node's checkpoint file from the shared chain's verified head; the verdict (not ok: nothing written). */
export async function joinAuditChain(store: RedisAuditStore, key: AuditKey, checkpoint: AuditCheckpoint): Promise<ChainVerdict | null> {
  if (checkpoint.read() !== null) return null;
  const verdict = await verifyAudit({ anchor: () => store.auditAnchor(), page: (after, limit) => store.auditPage(after, limit) }, { key, checkpoint: null, useCheckpoint: false });
  if (verdict.ok && verdict.head) checkpoint.appendHead(verdict.head);
  return verdict;
}
