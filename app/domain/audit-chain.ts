import crypto from 'node:crypto';

// The audit log's integrity rule, pure: each entry's hash is SHA-256 over the previous hash and
// the entry's canonical fields; verifying walks the chain and names the first entry that breaks.

/** The security events Beep records. */
export type AuditEvent =
  | 'device_paired'
  | 'pairing_failed'
  | 'pairing_locked_out'
  | 'auth_failed'
  | 'refresh_token_reused'
  | 'device_revoked'
  | 'session_dropped'
  | 'signing_key_rotated'
  | 'data_key_rotation_started'
  | 'data_key_rotation_finished'
  | 'certificate_renewed'
  | 'ip_blocked'
  | 'socket_flood'
  | 'config_changed'
  | 'admin_password_set'
  | 'dashboard_login'
  // ntfy / Gotify API tokens (compat/audit-sink.ts)
  | 'api_token_created'
  | 'api_token_revoked'
  | 'api_token_missing'
  | 'api_token_refused'
  | 'api_token_used'
  // the Gotify app's password login (compat/gotify/gotify-login.ts)
  | 'gotify_login'
  | 'gotify_login_refused';

export interface AuditInput {
  event: AuditEvent;
  actor: string;
  details: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  at_ms: number;
  event: string;
  actor: string;
  details: string;
  prev_hash: string;
  hash: string;
}

/** The prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 over the chain link and the stored fields (details as stored, already canonical JSON). */
export function entryHash(prevHash: string, e: { seq: number; at_ms: number; event: string; actor: string; details: string }): string {
  const canonical = JSON.stringify([prevHash, e.seq, e.at_ms, e.event, e.actor, e.details]);
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

export type ChainVerdict =
  | { ok: true; checked: number }
  | { ok: false; checked: number; seq: number; problem: 'altered' | 'missing' | 'relinked' };

/**
 * Walks rows in seq order.
 *
 *   verifyChain(rows) // { ok: false, seq: 7, problem: 'altered' } when entry 7 was edited
 */
export function verifyChain(rows: AuditRow[]): ChainVerdict {
  let prev = GENESIS_HASH;
  let expectedSeq = rows.length > 0 ? 1 : 0;
  let checked = 0;
  for (const row of rows) {
    if (row.seq !== expectedSeq) return { ok: false, checked, seq: expectedSeq, problem: 'missing' };
    if (row.prev_hash !== prev) return { ok: false, checked, seq: row.seq, problem: 'relinked' };
    if (entryHash(prev, row) !== row.hash) return { ok: false, checked, seq: row.seq, problem: 'altered' };
    prev = row.hash;
    expectedSeq++;
    checked++;
  }
  return { ok: true, checked };
}
