import type { StoredNotification } from '../domain/notification';

// A subscriber's backlog is never held whole: it is read a page at a time (LIMIT, above a
// seq, through the SubscriberHistory port) and the next page is read only once the stream has
// drained. Used by the SubscriberHub to catch a stream up (since=, or after it fell behind)
// and by ntfy's poll=1.

/** What the pump writes to: one subscriber stream and the history it may read. */
export interface PumpTarget {
  /** Topic and filter match. */
  accepts(notification: StoredNotification): boolean;
  /** Writes one; false when the stream is full or closed (nothing written). */
  send(notification: StoredNotification): boolean;
  /** Resolves true once the stream can take more, false once it has closed. */
  drained(): Promise<boolean>;
  /** Up to `limit` notifications it may see above `afterSeq`, oldest first. */
  history(afterSeq: number, limit: number): Promise<StoredNotification[]>;
}

/**
 * Sends everything above `cursor`, page by page as the stream drains, until a page comes back
 * short (everything committed when that read started has been sent). Resolves to the seq
 * reached, or null once the stream has closed.
 *
 *   const reached = await pump(target, 0, 100); // since=all
 */
export async function pump(target: PumpTarget, cursor: number, pageSize: number): Promise<number | null> {
  for (;;) {
    if (!(await target.drained())) return null;
    const page = await target.history(cursor, pageSize);
    let stopped = false;
    for (const n of page) {
      if (target.accepts(n) && !target.send(n)) {
        stopped = true;
        break;
      }
      cursor = n.seq;
    }
    if (!stopped && page.length < pageSize) return cursor;
  }
}
