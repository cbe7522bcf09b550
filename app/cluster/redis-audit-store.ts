import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { GENESIS_HASH, type AuditAnchor, type AuditEvent, type AuditInput, type AuditKey, type AuditRow, type ChainHead } from '../domain/audit-chain';
import { treatmentOf } from '../domain/audit-policy';
import type { AuditStore } from '../observability/audit-log';
import { APPEND_AUDIT, PRUNE_AUDIT } from './audit-scripts';
import { RedisCommitError } from './redis-errors';
import type { RedisKeys } from './redis-keys';

// The audit log of a cluster on Redis (what store/sqlite-audit-store.ts is on SQLite): ONE chain
// for every node, each entry HMAC'd under the audit key exactly as the SQLite chain is
// (domain/audit-chain.ts AuditKey.entryMac over the previous MAC and the entry's fields), so the
// same verifier walks it. Appends are serialised by a compare-and-append script (audit-scripts.ts).
// Retention moves a signed anchor and deletes behind it in one script. Every entry is keyed:
// a Redis chain has no unkeyed past to upgrade.

/** Lost races before an append gives up (each means another node appended meanwhile; the turn makes a second loss rare). */
const MAX_TRIES = 100;
/** ms a node that lost a race holds the next turn at most (a node that died holding it delays others this long). */
const TURN_MS = 2_000;
/** ms a write waits at most for other nodes' turns before it gives up. */
const WAIT_LIMIT_MS = 10_000;
/** ms between looks while another node's turn holds. */
const WAIT_STEP_MS = 1;
/** Entries read per step while looking for where retention stops. */
const SCAN_STEP = 500;

type StreamEntry = [string, string[]];

/** A stream entry as the row the verifier and the admin list read. */
function rowOf([id, f]: StreamEntry): AuditRow {
  return { seq: Number.parseInt(id, 10), at_ms: Number(f[1]), event: f[3], actor: f[5], details: f[7], prev_hash: '', hash: '', mac: f[9] ?? null };
}

/** Implements the audit log's port (observability/audit-log.ts) and the config check's lastAuditDetails. */
export class RedisAuditStore implements AuditStore {
  /** The head this node last saw (a guess: the script says when it moved). */
  private head: ChainHead = { seq: 0, mac: GENESIS_HASH };
  /** This node's writes, one at a time (as the SQLite writer runs them): only other nodes can race it. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Names this store's turn (audit-scripts.ts). */
  private readonly token = crypto.randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  appendAudit(input: AuditInput, atMs: number, key: AuditKey): Promise<ChainHead> {
    return this.serially(() => this.append(input, atMs, key));
  }

  private async append(input: AuditInput, atMs: number, key: AuditKey): Promise<ChainHead> {
    const details = JSON.stringify(input.details);
    const daily = treatmentOf(input.event) === 'daily' ? `${input.event} ${input.actor}` : '';
    const head = await this.compareAndWrite(async (head) => {
      const mac = key.entryMac(head.mac, { seq: head.seq + 1, at_ms: atMs, event: input.event, actor: input.actor, details });
      const reply = (await this.run(APPEND_AUDIT, [head.seq, head.mac, atMs, input.event, input.actor, details, mac, daily, this.token, TURN_MS])) as (number | string)[];
      return { reply, done: () => ({ seq: Number(reply[1]), mac }) };
    });
    return head!; // an append never answers -1
  }

  /** Newest first, below `beforeSeq`. */
  async auditEntries(limit: number, beforeSeq: number | null): Promise<AuditRow[]> {
    const end = beforeSeq === null ? '+' : `(${beforeSeq}-0`;
    return ((await this.redis.xrevrange(this.keys.audit, end, '-', 'COUNT', limit)) as StreamEntry[]).map(rowOf);
  }

  /** After `afterSeq`, in order (verification). */
  async auditPage(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return ((await this.redis.xrange(this.keys.audit, `(${afterSeq}-0`, '+', 'COUNT', limit)) as StreamEntry[]).map(rowOf);
  }

  async auditAnchor(): Promise<AuditAnchor | null> {
    const a = await this.redis.hgetall(this.keys.auditAnchor);
    return a.seq === undefined ? null : { seq: Number(a.seq), mac: a.mac, sig: a.sig };
  }

  async auditCounts(): Promise<{ total: number; keyed: number }> {
    const total = await this.redis.xlen(this.keys.audit);
    return { total, keyed: total };
  }

  /** Whether `actor` has an `event` entry at or after `sinceMs` (kept for the events recorded once a day). */
  async auditRecordedSince(event: AuditEvent, actor: string, sinceMs: number): Promise<boolean> {
    const at = await this.redis.hget(this.keys.auditDaily, `${event} ${actor}`);
    return at !== null && Number(at) >= sinceMs;
  }

  /** A Redis chain is keyed from its first entry: nothing to upgrade. */
  async upgradeUnkeyedAudit(): Promise<null> {
    return null;
  }

  /**
   * Removes the oldest entries recorded before `cutoffMs` (never past `maxSeq`, the last entry
   * verification vouched for) behind a signed anchor, and appends `audit_pruned`; null when
   * nothing is old enough.
   */
  pruneAudit(cutoffMs: number, maxSeq: number, atMs: number, key: AuditKey): Promise<{ pruned: number; throughSeq: number; head: ChainHead } | null> {
    return this.serially(() => this.prune(cutoffMs, maxSeq, atMs, key));
  }

  private async prune(cutoffMs: number, maxSeq: number, atMs: number, key: AuditKey): Promise<{ pruned: number; throughSeq: number; head: ChainHead } | null> {
    const last = await this.lastOlderThan(cutoffMs, maxSeq);
    if (!last) return null;
    const first = (await this.auditPage(0, 1))[0];
    if (!first) return null;
    const entries = last.seq - first.seq + 1;
    const details = JSON.stringify({ throughSeq: last.seq, entries, olderThan: new Date(cutoffMs).toISOString() });
    const sig = key.sign('anchor', [last.seq, last.mac!]);
    const outcome = await this.compareAndWrite(async (head) => {
      const mac = key.entryMac(head.mac, { seq: head.seq + 1, at_ms: atMs, event: 'audit_pruned', actor: 'system', details });
      const reply = (await this.run(PRUNE_AUDIT, [last.seq, last.mac!, sig, atMs, head.seq, head.mac, 'audit_pruned', 'system', details, mac, first.seq, this.token, TURN_MS])) as (number | string)[];
      return { reply, done: () => ({ seq: Number(reply[2]), mac }) };
    });
    return outcome === null ? null : { pruned: entries, throughSeq: last.seq, head: outcome };
  }

  /**
   * One chain write: tries it over the head this node believes current; the script appends (1),
   * names the real head (0: MAC again over it), asks to wait for another node's turn (2), or finds
   * nothing to do (-1: null).
   */
  private async compareAndWrite(attempt: (head: ChainHead) => Promise<{ reply: (number | string)[]; done: () => ChainHead }>): Promise<ChainHead | null> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    let lost = 0;
    for (;;) {
      const { reply, done } = await attempt(this.head);
      switch (Number(reply[0])) {
        case 1:
          return (this.head = done());
        case -1:
          return null;
        case 2:
          if (Date.now() > deadline) throw new Error(`audit write waited ${WAIT_LIMIT_MS} ms for other nodes' turns`);
          await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
          break;
        default:
          this.head = { seq: Number(reply[1]), mac: String(reply[2]) };
          if (++lost >= MAX_TRIES) throw new Error(`audit write lost the race ${MAX_TRIES} times in a row`);
      }
    }
  }

  /** The newest details recorded for an event (e.g. the last config fingerprint); an unreadable one counts as none. */
  async lastAuditDetails(event: AuditEvent): Promise<Record<string, unknown> | undefined> {
    const text = await this.redis.hget(this.keys.auditLastDetails, event);
    try {
      return text === null ? undefined : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      return undefined;
    }
  }

  /** The last entry before the first one recorded at or after `cutoffMs`, at most `maxSeq`; a page at a time from the oldest. */
  private async lastOlderThan(cutoffMs: number, maxSeq: number): Promise<AuditRow | null> {
    let found: AuditRow | null = null;
    let after = 0;
    for (;;) {
      const rows = await this.auditPage(after, SCAN_STEP);
      for (const row of rows) {
        if (row.at_ms >= cutoffMs || row.seq > maxSeq) return found;
        found = row;
      }
      if (rows.length < SCAN_STEP) return found;
      after = rows[rows.length - 1].seq;
    }
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run(script: typeof APPEND_AUDIT, args: (string | number)[]): Promise<unknown> {
    try {
      return await script.run(this.redis, [this.keys.prefix, ...args]);
    } catch (error) {
      throw new RedisCommitError(error);
    }
  }
}
