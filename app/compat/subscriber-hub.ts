import type { StoredNotification } from '../domain/notification';

// Live fan-out to ntfy and Gotify subscribers. Ingest hands every accepted notification to
// `accepted` synchronously after its commit, in seq order; a feed registers before it reads
// its backlog, so nothing committed in between is skipped and nothing is sent twice.

/** One open stream (ntfy json/sse/raw/ws, Gotify /stream), as the hub sees it. */
export interface Feed {
  /** The API token it was opened with: revoking that token closes the feed. */
  tokenId: number;
  /** Topic and filter match. */
  accepts(notification: StoredNotification): boolean;
  send(notification: StoredNotification): void;
  /** Ends the stream (token revoked, shutdown). */
  close(): void;
}

interface Entry {
  feed: Feed;
  /** Live arrivals held while the backlog loads; null once live. */
  buffer: StoredNotification[] | null;
  /** Highest seq sent, so the buffer never repeats what the backlog already sent. */
  lastSeq: number;
}

/**
 * Holds the open feeds.
 *
 *   const stop = await hub.open(feed, () => history.after(seq, 0, ['alerts'], 10_000));
 *   hub.accepted(notification); // from ingest, after each commit
 */
export class SubscriberHub {
  private readonly entries = new Set<Entry>();

  /** Sends the backlog (if any), then everything accepted from the moment of the call on. */
  async open(feed: Feed, backlog: (() => Promise<StoredNotification[]>) | null): Promise<() => void> {
    const entry: Entry = { feed, buffer: backlog ? [] : null, lastSeq: 0 };
    this.entries.add(entry);
    const remove = () => void this.entries.delete(entry);
    if (!backlog) return remove;
    try {
      for (const n of await backlog()) if (feed.accepts(n)) this.deliver(entry, n);
    } catch (error) {
      remove();
      throw error;
    }
    const held = entry.buffer ?? [];
    entry.buffer = null;
    for (const n of held) this.deliver(entry, n);
    return remove;
  }

  /** From ingest, synchronously after the commit. */
  accepted(notification: StoredNotification): void {
    for (const entry of this.entries) {
      if (!entry.feed.accepts(notification)) continue;
      if (entry.buffer) entry.buffer.push(notification);
      else this.deliver(entry, notification);
    }
  }

  /** A token was revoked: its feeds end now. */
  closeToken(tokenId: number): void {
    for (const entry of [...this.entries]) {
      if (entry.feed.tokenId !== tokenId) continue;
      this.entries.delete(entry);
      entry.feed.close();
    }
  }

  closeAll(): void {
    for (const entry of [...this.entries]) entry.feed.close();
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private deliver(entry: Entry, n: StoredNotification): void {
    if (n.seq <= entry.lastSeq) return;
    entry.lastSeq = n.seq;
    entry.feed.send(n);
  }
}
