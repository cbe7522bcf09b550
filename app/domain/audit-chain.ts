import crypto from 'node:crypto';

// The audit log's integrity rule, pure. Each entry carries an HMAC-SHA-256 (under the audit key
// in <data dir>/keys/audit.key) over the previous entry's MAC and its own fields, so nobody
// without the key can edit, insert or re-link an entry and recompute the chain. Entries
// written before the key existed carry the old unkeyed SHA-256 link (prev_hash/hash); the
// upgrade checks that chain once and then MACs those entries too (see audit-verify.ts).

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
  | 'api_token_renamed'
  | 'api_token_revoked'
  | 'api_token_missing'
  | 'api_token_refused'
  | 'api_token_used'
  // the Gotify app's password login (compat/gotify/gotify-login.ts)
  | 'gotify_login'
  | 'gotify_login_refused'
  // ntfy http action buttons the daemon performed for a phone, or refused (compat/ntfy/action-service.ts)
  | 'http_action'
  | 'http_action_refused'
  // the log's own life: keyed (upgrade of an unkeyed chain), pruned (retention), restored (backup)
  | 'audit_chain_keyed'
  | 'audit_pruned'
  | 'audit_restored';

export interface AuditInput {
  event: AuditEvent;
  actor: string;
  details: Record<string, unknown>;
}

/** An entry as stored; `mac` is null only on entries from before the key, until the upgrade. */
export interface AuditRow {
  seq: number;
  at_ms: number;
  event: string;
  actor: string;
  details: string;
  prev_hash: string;
  hash: string;
  mac: string | null;
}

/** The fields a MAC (and the legacy hash) covers, details as stored (canonical JSON). */
export type ChainFields = Pick<AuditRow, 'seq' | 'at_ms' | 'event' | 'actor' | 'details'>;

/** The newest entry of the chain: what the checkpoint file records and the next entry links to. */
export interface ChainHead {
  seq: number;
  mac: string;
}

/** Where verification starts after a prune: the last pruned entry's seq and MAC, signed. */
export interface AuditAnchor extends ChainHead {
  sig: string;
}

/** The prev_hash (and previous MAC) of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Labels that keep an entry MAC, an anchor signature and a checkpoint signature apart. */
const ENTRY_LABEL = 'beep-audit-entry-v2';
const RECORD_LABEL = 'beep-audit-record-v2';

/** The legacy (unkeyed) SHA-256 link; kept so entries from before the key stay verifiable. */
export function entryHash(prevHash: string, e: ChainFields): string {
  const canonical = JSON.stringify([prevHash, e.seq, e.at_ms, e.event, e.actor, e.details]);
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

/**
 * The audit key: MACs entries and signs the records that move the chain's start (prune anchor)
 * or its promised head (a restore). Holds the key bytes; never logs or exposes them.
 *
 *   const key = new AuditKey(bytes);
 *   const mac = key.entryMac(prev.mac, row); // the next entry links to `mac`
 */
export class AuditKey {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new Error('an audit key has at least 32 bytes');
    this.#key = Buffer.from(key);
  }

  entryMac(prevMac: string, e: ChainFields): string {
    return this.hmac(JSON.stringify([ENTRY_LABEL, prevMac, e.seq, e.at_ms, e.event, e.actor, e.details]));
  }

  /** A signature over a labelled record (`anchor`, `restored`) and its fields. */
  sign(kind: string, fields: (string | number)[]): string {
    return this.hmac(JSON.stringify([RECORD_LABEL, kind, ...fields]));
  }

  verify(kind: string, fields: (string | number)[], sig: string): boolean {
    return safeEqual(this.sign(kind, fields), sig);
  }

  macMatches(prevMac: string, row: AuditRow): boolean {
    return row.mac !== null && safeEqual(this.entryMac(prevMac, row), row.mac);
  }

  private hmac(text: string): string {
    return crypto.createHmac('sha256', this.#key).update(text).digest('hex');
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Why verification stopped. */
export type ChainProblem =
  | 'altered' // the entry's MAC does not match its fields and its predecessor
  | 'unsigned' // the entry carries no MAC (stripped, or forged in the old format)
  | 'missing' // a seq is absent between the anchor and the newest entry
  | 'truncated' // entries the checkpoint file recorded are gone from the end
  | 'checkpoint_mismatch' // the entry at the checkpoint's seq is not the one it recorded
  | 'checkpoint_regressed' // the checkpoint file's heads went backwards (tail cut, then rewritten)
  | 'checkpoint_forged' // a signed checkpoint record does not verify
  | 'checkpoint_missing' // keyed entries exist but the checkpoint file does not
  | 'anchor_forged' // the prune anchor's signature does not verify
  | 'broken_before_keying'; // the unkeyed chain was already broken when the key was introduced

export type ChainVerdict =
  | { ok: true; checked: number; firstSeq: number | null; head: ChainHead | null; unkeyed?: true }
  | { ok: false; checked: number; seq: number; problem: ChainProblem; detail: string };

export type ChainFailure = Extract<ChainVerdict, { ok: false }>;

/**
 * Walks keyed entries in seq order from the anchor (or from the start), one page at a time.
 *
 *   const walk = new ChainWalker(key, anchor);
 *   for (const row of page) if (!walk.feed(row)) break;
 *   walk.failure ?? walk.head; // the first bad entry, or where the chain ends
 */
export class ChainWalker {
  failure: ChainFailure | null = null;
  checked = 0;
  firstSeq: number | null = null;
  private prevMac: string;
  private nextSeq: number;
  /** The entry the walk must find (the checkpoint file's head), checked on the way. */
  private expected: ChainHead | null = null;

  constructor(
    private readonly key: AuditKey,
    readonly anchor: AuditAnchor | null,
  ) {
    this.prevMac = anchor?.mac ?? GENESIS_HASH;
    this.nextSeq = (anchor?.seq ?? 0) + 1;
    if (anchor && !key.verify('anchor', [anchor.seq, anchor.mac], anchor.sig)) {
      this.fail(anchor.seq, 'anchor_forged', `the prune anchor at entry ${anchor.seq} is not signed by the audit key`);
    }
  }

  /** Asks the walk to confirm that entry `head.seq` has MAC `head.mac` (the checkpoint file's head). */
  expectHead(head: ChainHead): void {
    const anchorSeq = this.anchor?.seq ?? 0;
    if (head.seq === anchorSeq && head.seq > 0 && head.mac !== this.anchor!.mac) {
      this.fail(head.seq, 'checkpoint_mismatch', `the checkpoint file recorded another entry ${head.seq} than the prune anchor`);
    }
    // A head at or below the anchor was pruned away; the signed anchor vouches for it.
    if (head.seq > anchorSeq) this.expected = head;
  }

  /** The newest entry verified so far. */
  get head(): ChainHead | null {
    return this.nextSeq > 1 ? { seq: this.nextSeq - 1, mac: this.prevMac } : null;
  }

  /** Checks one entry; false once the walk has found a problem (stop feeding). */
  feed(row: AuditRow): boolean {
    if (this.failure) return false;
    if (row.seq !== this.nextSeq) {
      const gone = row.seq - 1 > this.nextSeq ? `entries ${this.nextSeq}..${row.seq - 1} are gone` : `entry ${this.nextSeq} is gone`;
      const gap = row.seq > this.nextSeq ? gone : `entry ${row.seq} is out of order`;
      return this.fail(this.nextSeq, 'missing', gap);
    }
    if (row.mac === null) return this.fail(row.seq, 'unsigned', 'the entry carries no MAC');
    if (!this.key.macMatches(this.prevMac, row)) return this.fail(row.seq, 'altered', 'its MAC does not match its fields and the entry before it');
    if (this.expected?.seq === row.seq && this.expected.mac !== row.mac) {
      return this.fail(row.seq, 'checkpoint_mismatch', 'the checkpoint file recorded another entry at this seq');
    }
    const broken = legacyBreak(row);
    if (broken && broken.seq > (this.anchor?.seq ?? 0)) return this.fail(broken.seq, 'broken_before_keying', `when the key was introduced the unkeyed chain was already ${broken.problem} here`);
    this.firstSeq ??= row.seq;
    this.prevMac = row.mac;
    this.nextSeq++;
    this.checked++;
    return true;
  }

  /** The verdict once every entry was fed. */
  finish(): ChainVerdict {
    if (this.failure) return this.failure;
    const last = this.nextSeq - 1;
    if (this.expected && this.expected.seq > last) {
      this.fail(last + 1, 'truncated', `truncated after entry ${last}: the checkpoint file records entry ${this.expected.seq}`);
      return this.failure!;
    }
    return { ok: true, checked: this.checked, firstSeq: this.firstSeq, head: this.head };
  }

  private fail(seq: number, problem: ChainProblem, detail: string): false {
    this.failure ??= { ok: false, checked: this.checked, seq, problem, detail };
    return false;
  }
}

/** The break an `audit_chain_keyed` entry recorded in the unkeyed chain it anchored, if any. */
function legacyBreak(row: AuditRow): { seq: number; problem: string } | null {
  if (row.event !== 'audit_chain_keyed') return null;
  try {
    const details = JSON.parse(row.details) as { legacyBroken?: { seq: number; problem: string } };
    return details.legacyBroken ?? null;
  } catch {
    return null;
  }
}

/**
 * The old unkeyed chain, walked the old way (hash links from the genesis); used once, by the
 * upgrade, and by `beep audit verify` on a data directory the daemon has not upgraded yet.
 */
export class LegacyWalker {
  failure: { seq: number; problem: 'altered' | 'missing' | 'relinked' } | null = null;
  checked = 0;
  private prev = GENESIS_HASH;
  private nextSeq = 1;

  feed(row: AuditRow): boolean {
    if (this.failure) return false;
    if (row.seq !== this.nextSeq) this.failure = { seq: this.nextSeq, problem: 'missing' };
    else if (row.prev_hash !== this.prev) this.failure = { seq: row.seq, problem: 'relinked' };
    else if (entryHash(this.prev, row) !== row.hash) this.failure = { seq: row.seq, problem: 'altered' };
    if (this.failure) return false;
    this.prev = row.hash;
    this.nextSeq++;
    this.checked++;
    return true;
  }

  /** The last entry's legacy hash (what the keyed chain's first entry records). */
  get headHash(): string {
    return this.prev;
  }
}
