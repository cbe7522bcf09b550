import type Redis from 'ioredis';
import type { RedisKeys } from './redis-keys';
import { entryJsonOf, streamId } from './stream-entry';

// Paging the outbox's history indexes (redis-keys.ts `history`, `topic:<t>`: sorted sets whose
// score is the seq) without ever loading a whole topic: candidates are taken from the indexes
// `step` seqs at a time (merged in seq order when several topics are read), each one's entry is
// fetched by its stream id, filtered, and the scan stops once `limit` matched or the index ends.
// Memory is bounded by `step` per index and `limit` results, whatever the history holds.

/** What a filter sees of a candidate: its seq, the entry's clear fields and whether it was dismissed. */
export interface Candidate {
  seq: number;
  /** The entry's JSON (the outbox stream's `n` field). */
  json: string;
  /** Public fields, parsed once. */
  meta: { id: string; topic: string | null; createdAt: string; tokenId: number | null };
  dismissedAt: string | null;
}

export interface ScanRequest {
  /** Index keys read (one = the whole history or one topic; several are merged by seq). */
  indexes: string[];
  /** 'asc': seqs above `bound`, oldest first; 'desc': below it, newest first. Exclusive. */
  direction: 'asc' | 'desc';
  bound: number;
  limit: number;
  /** Keeps a candidate (default: every one). */
  keep?: (c: Candidate) => boolean;
  /** Whether to look up dismissals (Gotify's listings, the admin history). */
  dismissals: boolean;
}

function exclusive(bound: number, direction: 'asc' | 'desc'): string {
  if (!Number.isFinite(bound)) return direction === 'asc' ? '-inf' : '+inf';
  return `(${bound}`;
}

/** Reads candidates a bounded step at a time; `step` is config/defaults.ts REDIS_HISTORY_SCAN_PAGE. */
export class HistoryScan {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly step: number,
  ) {}

  /** Up to `limit` kept candidates in `direction` order. */
  async scan(request: ScanRequest): Promise<Candidate[]> {
    const { indexes, direction, limit } = request;
    const found: Candidate[] = [];
    if (limit <= 0 || indexes.length === 0) return found;
    let bound = request.bound;
    const step = Math.max(1, Math.min(this.step, limit * 4));
    for (;;) {
      const seqs = await this.nextSeqs(indexes, direction, bound, step);
      if (seqs.length === 0) return found;
      for (const c of await this.fetch(seqs, request.dismissals)) {
        if (request.keep && !request.keep(c)) continue;
        found.push(c);
        if (found.length >= limit) return found;
      }
      // Fewer than a step in the union: every index ended.
      if (seqs.length < step) return found;
      bound = seqs[seqs.length - 1];
    }
  }

  /** The next `step` seqs of the union of `indexes` past `bound`, in order. */
  private async nextSeqs(indexes: string[], direction: 'asc' | 'desc', bound: number, step: number): Promise<number[]> {
    const pipeline = this.redis.pipeline();
    for (const key of indexes) {
      if (direction === 'asc') pipeline.zrangebyscore(key, exclusive(bound, direction), '+inf', 'LIMIT', 0, step);
      else pipeline.zrevrangebyscore(key, exclusive(bound, direction), '-inf', 'LIMIT', 0, step);
    }
    const replies = (await pipeline.exec()) ?? [];
    const all = new Set<number>();
    for (const [error, members] of replies) {
      if (error) throw error;
      for (const m of members as string[]) all.add(Number(m));
    }
    const sorted = [...all].sort((a, b) => (direction === 'asc' ? a - b : b - a));
    // The first `step` of the union are among each index's first `step`: the merge is exact.
    return sorted.slice(0, step);
  }

  /** Each seq's stream entry (one XRANGE of one id each) and dismissal; an entry trimmed meanwhile is skipped. */
  private async fetch(seqs: number[], dismissals: boolean): Promise<Candidate[]> {
    const pipeline = this.redis.pipeline();
    for (const seq of seqs) pipeline.xrange(this.keys.outbox, streamId(seq), streamId(seq));
    if (dismissals) pipeline.hmget(this.keys.dismissed, ...seqs.map(String));
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const dismissedAt = dismissals ? (replies[seqs.length][1] as (string | null)[]) : [];
    const out: Candidate[] = [];
    seqs.forEach((seq, i) => {
      const entry = (replies[i][1] as [string, string[]][])[0];
      if (!entry) return;
      const json = entryJsonOf(entry[1]);
      const meta = JSON.parse(json) as Candidate['meta'];
      out.push({ seq, json, meta: { id: meta.id, topic: meta.topic, createdAt: meta.createdAt, tokenId: meta.tokenId ?? null }, dismissedAt: dismissedAt[i] ?? null });
    });
    return out;
  }
}
