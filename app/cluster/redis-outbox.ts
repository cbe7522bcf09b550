import type Redis from 'ioredis';
import { storedFrom } from '../domain/notification';
import type { Outbox } from '../ingest/ingest-service';
import type { FieldSealer } from '../store/rows';
import { APPEND, DISMISS } from './outbox-scripts';
import { RedisCommitError } from './redis-errors';
import type { RedisKeys } from './redis-keys';
import { decodeEntry, encodeEntry } from './stream-entry';

// The outbox on Redis (what store/sqlite-outbox.ts is on SQLite): an append is one Lua script
// (outbox-scripts.ts), accepted once it replied; a dismissal is another. Any failure to get a
// reply (out of memory under noeviction, Redis unreachable, a timeout) is a CommitError, which
// ingest answers 503 not_accepted: a timed-out append may still have happened, which is why
// scripts are told to send an id and retry (a retry with the same id answers the stored one).

/** The outbox ingest appends to and the shared dismiss path marks, shared by every node. */
export class RedisOutbox implements Outbox {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
    /** s a client id stays claimed: the retention (a retry after it is a new notification). */
    private readonly retentionSec: number,
  ) {}

  append(...[input, id, afterCommit]: Parameters<Outbox['append']>): ReturnType<Outbox['append']> {
    const createdAt = new Date().toISOString();
    const owed = input.owedTo?.length === 0 ? '0' : '1';
    const args = [this.keys.prefix, id, this.retentionSec, input.priority, input.topic ?? '', input.replaces ?? '', input.owedTo ? '1' : '0', owed, createdAt, encodeEntry(this.sealer, input, id, createdAt)];
    // The callback is chained on the reply itself: replies on one connection come in the order
    // the scripts ran, which is seq order, so `afterCommit` runs in seq order.
    return APPEND.run(this.redis, args).then(
      (reply) => {
        const [stored, seq, json, dismissedAt] = reply as [number, number, string | null, string | null];
        const outcome =
          stored === 1
            ? { notification: storedFrom(input, id, seq, createdAt), duplicate: false }
            : { notification: json ? decodeEntry(this.sealer, seq, json, dismissedAt || null) : storedFrom(input, id, seq, createdAt), duplicate: true };
        afterCommit(outcome);
        return outcome;
      },
      (error: unknown) => {
        throw new RedisCommitError(error);
      },
    );
  }

  /** Whether a notification with this public id is stored (its claim has not expired). */
  async has(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.id(id))) === 1;
  }

  /** Marks it dismissed once (null when unknown or already dismissed); `afterCommit` runs in reply order. */
  dismiss(id: string, byDevice: string | null, afterCommit?: (r: { seq: number; dismissalSeq: number } | null) => void): Promise<{ seq: number; dismissalSeq: number } | null> {
    const now = new Date();
    return DISMISS.run(this.redis, [this.keys.prefix, id, byDevice ?? '', now.toISOString(), now.getTime()]).then(
      (reply) => {
        const result = reply ? { seq: (reply as number[])[0], dismissalSeq: (reply as number[])[1] } : null;
        afterCommit?.(result);
        return result;
      },
      (error: unknown) => {
        throw new RedisCommitError(error);
      },
    );
  }
}
