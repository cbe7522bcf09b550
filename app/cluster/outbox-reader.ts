import type Redis from 'ioredis';
import type { StoredNotification } from '../domain/notification';
import type { FieldSealer } from '../store/rows';
import type { RedisKeys } from './redis-keys';
import { decodeEntry, entryJsonOf, seqOfStreamId, streamId } from './stream-entry';

// Every node reads the whole outbox stream, in seq order, to hand new notifications to its own
// phones and subscribers. Plain XREAD, not a consumer group: a group would split the entries
// between nodes. It blocks on a connection of its own (a blocked connection answers nothing
// else), and stop() ends a blocked read at once by closing that connection.

export interface OutboxReaderOptions {
  /** ms one XREAD blocks (config/defaults.ts REDIS_READ_BLOCK_MS). */
  blockMs: number;
  /** Entries per read at most (REDIS_READ_COUNT). */
  count: number;
  /** ms to wait after a failed read (Redis unreachable) before the next. */
  retryMs: number;
  /** A read that failed, or an entry that could not be opened (skipped: its seal is not ours). */
  onError?: (error: unknown, context: string) => void;
}

/** Reads the outbox stream from a seq onwards until stopped. */
export class OutboxReader {
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(
    /** Its own connection (RedisConnection.duplicate with a timeout above blockMs); closed by stop(). */
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
    private readonly options: OutboxReaderOptions,
  ) {}

  /**
   * Notifications with a seq above `afterSeq`, in seq order, as they are appended.
   *
   *   for await (const n of reader.read(lastSeq)) bus.accepted(n);
   */
  async *read(afterSeq: number): AsyncGenerator<StoredNotification> {
    let last = streamId(afterSeq);
    while (!this.stopped) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.redis.xread('COUNT', this.options.count, 'BLOCK', this.options.blockMs, 'STREAMS', this.keys.outbox, last)) as typeof reply;
      } catch (error) {
        if (this.stopped) return;
        this.options.onError?.(error, 'outbox read');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.retryMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
        continue;
      }
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        last = id;
        const seq = seqOfStreamId(id);
        let notification: StoredNotification;
        try {
          notification = decodeEntry(this.sealer, seq, entryJsonOf(fields));
        } catch (error) {
          this.options.onError?.(error, `outbox entry ${seq}`);
          continue;
        }
        yield notification;
        if (this.stopped) return;
      }
    }
  }

  /** Ends the read: a blocked XREAD is cut by closing the reader's connection. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.redis.disconnect();
  }
}
