import type Redis from 'ioredis';
import type { GotifyMessages, SubscriberHistory } from '../compat/ports';
import type { StoredNotification } from '../domain/notification';
import type { FieldSealer } from '../store/rows';
import { HistoryScan, type Candidate } from './history-scan';
import type { RedisKeys } from './redis-keys';
import { decodeEntry } from './stream-entry';

// ntfy's and Gotify's reads on Redis (what store/topic-history.ts is on SQLite): the outbox's
// history indexes paged in seq order a bounded step at a time (history-scan.ts), entries opened
// with the field sealer. `Cache: no` notifications are in no history index, so never listed.
// `topics` null means every notification (untopiced ones included), as on SQLite.

/** The subscribers' history and Gotify's listing of what is not dismissed (compat/ports.ts declares them). */
export class RedisTopicHistory implements SubscriberHistory, GotifyMessages {
  private readonly scanner: HistoryScan;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
    /** Entries asked of Redis per step (config/defaults.ts REDIS_HISTORY_SCAN_PAGE). */
    scanPage: number,
  ) {
    this.scanner = new HistoryScan(redis, keys, scanPage);
  }

  /** The outbox seq of a public id (ntfy since=<id>); undefined when unknown or past retention. */
  async seqOf(id: string): Promise<number | undefined> {
    const seq = await this.redis.get(this.keys.id(id));
    return seq === null ? undefined : Number(seq);
  }

  /** Notifications above `afterSeq`, created at or after `sinceMs`, oldest first. */
  async after(afterSeq: number, sinceMs: number, topics: string[] | null, limit: number): Promise<StoredNotification[]> {
    const keep = sinceMs > 0 ? (c: Candidate) => Date.parse(c.meta.createdAt) >= sinceMs : undefined;
    const found = await this.scanner.scan({ indexes: this.indexes(topics), direction: 'asc', bound: afterSeq, limit, keep, dismissals: true });
    return found.map((c) => this.open(c));
  }

  /** Up to `limit` notifications below `beforeSeq`, newest first (Gotify paging); `tokenId` keeps one publisher's. */
  async before(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null = null): Promise<StoredNotification[]> {
    const keep = tokenId === null ? undefined : (c: Candidate) => c.meta.tokenId === tokenId;
    const found = await this.scanner.scan({ indexes: this.indexes(topics), direction: 'desc', bound: beforeSeq, limit, keep, dismissals: true });
    return found.map((c) => this.open(c));
  }

  /** Up to `limit` undismissed notifications below `beforeSeq`, newest first (Gotify's GET /message). */
  async listed(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null): Promise<StoredNotification[]> {
    return (await this.listedCandidates(beforeSeq, topics, limit, tokenId)).map((c) => this.open(c));
  }

  /** The same selection as `listed`, ids only (nothing opened): what a Gotify delete dismisses, a page at a time. */
  async listedIds(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null): Promise<{ id: string; seq: number }[]> {
    return (await this.listedCandidates(beforeSeq, topics, limit, tokenId)).map((c) => ({ id: c.meta.id, seq: c.seq }));
  }

  /** The public id of the undismissed notification at `seq` within `topics`, or undefined. */
  async listedAt(seq: number, topics: string[] | null): Promise<string | undefined> {
    const [c] = await this.scanner.scan({ indexes: [this.keys.history], direction: 'asc', bound: seq - 1, limit: 1, dismissals: true });
    if (!c || c.seq !== seq || c.dismissedAt !== null) return undefined;
    if (topics && (c.meta.topic === null || !topics.includes(c.meta.topic))) return undefined;
    return c.meta.id;
  }

  private listedCandidates(beforeSeq: number, topics: string[] | null, limit: number, tokenId: number | null): Promise<Candidate[]> {
    const keep = (c: Candidate) => c.dismissedAt === null && (tokenId === null || c.meta.tokenId === tokenId);
    return this.scanner.scan({ indexes: this.indexes(topics), direction: 'desc', bound: beforeSeq, limit, keep, dismissals: true });
  }

  /** The whole history, or the union of the topics' indexes (a topic filter never lists untopiced ones). */
  private indexes(topics: string[] | null): string[] {
    return topics === null ? [this.keys.history] : [...new Set(topics)].map((t) => this.keys.topic(t));
  }

  private open(c: Candidate): StoredNotification {
    return decodeEntry(this.sealer, c.seq, c.json, c.dismissedAt);
  }
}
