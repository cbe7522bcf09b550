import { STREAM_BACKLOG_PAGE, STREAM_MAX_HELD } from '../config/defaults';
import type { RelayListener } from '../delivery/relay-bus';
import type { StoredNotification } from '../domain/notification';
import { pump, type PumpTarget } from './backlog-pump';

// Live fan-out to ntfy and Gotify subscribers. The hub listens on the RelayBus: every accepted
// notification reaches `accepted` synchronously after its commit, in seq order, and a revoked
// API token (`tokenRevoked`) closes its streams. A feed is either live (written as
// notifications arrive) or catching up: reading history page by page as its stream drains
// (its since= backlog, or what it missed while its stream was full), with what arrives
// meanwhile held (up to a cap; past it, history is simply read again). It goes live once a
// read comes back short and what was held has been written. A feed registers before it reads,
// so nothing committed in between is skipped, and every write is above the last seq written,
// so nothing is sent twice. Memory per feed is bounded by the page, the held cap and the
// stream's high-water mark, however large the backlog and however slow the reader.

/** One open stream (ntfy json/sse/raw/ws, Gotify /stream), as the hub sees it. */
export interface Feed extends PumpTarget {
  /** The API token it was opened with: revoking that token closes the feed. */
  tokenId: number;
  /** Ends the stream (token revoked, shutdown, or `error`: its history could not be read). */
  close(error?: unknown): void;
}

/** How much one feed reads and holds at a time. */
export interface HubLimits {
  /** notifications read from history per page. */
  pageSize: number;
  /** live arrivals held per feed while it catches up; past it, history is read again. */
  maxHeld: number;
}

interface Entry {
  feed: Feed;
  /** Live arrivals held while catching up; null while live. */
  held: StoredNotification[] | null;
  /** More arrived during this catch-up than may be held: read history again before going live. */
  overflowed: boolean;
}

/**
 * Holds the open feeds.
 *
 *   const remove = hub.open(feed, 0);      // since=all: the backlog from history, then live
 *   const remove = hub.open(feed, null);   // live from now on
 *   bus.subscribe(hub);                    // accepted, tokenRevoked
 */
export class SubscriberHub implements RelayListener {
  private readonly entries = new Set<Entry>();

  constructor(private readonly limits: HubLimits = { pageSize: STREAM_BACKLOG_PAGE, maxHeld: STREAM_MAX_HELD }) {}

  /** Registers a feed that starts after seq `startAfter` (read from history first) or, when null, now. */
  open(feed: Feed, startAfter: number | null): () => void {
    const entry: Entry = { feed, held: null, overflowed: false };
    this.entries.add(entry);
    if (startAfter !== null) void this.catchUp(entry, startAfter);
    return () => void this.entries.delete(entry);
  }

  /** From the bus, synchronously after the commit. */
  accepted(notification: StoredNotification): void {
    for (const entry of this.entries) {
      if (!entry.feed.accepts(notification)) continue;
      if (entry.held === null) {
        // Live: a full stream falls back to history from just below this one.
        if (!entry.feed.send(notification)) void this.catchUp(entry, notification.seq - 1);
      } else if (!entry.overflowed) {
        if (entry.held.length < this.limits.maxHeld) entry.held.push(notification);
        else [entry.held, entry.overflowed] = [[], true];
      }
    }
  }

  /** A token was revoked (from the bus): its feeds end now. */
  tokenRevoked(tokenId: number): void {
    this.closeToken(tokenId);
  }

  /** Ends the feeds opened with this token. */
  closeToken(tokenId: number): void {
    for (const entry of [...this.entries]) {
      if (entry.feed.tokenId !== tokenId) continue;
      this.entries.delete(entry);
      entry.feed.close();
    }
  }

  closeAll(): void {
    const all = [...this.entries];
    this.entries.clear();
    for (const entry of all) entry.feed.close();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Reads history above `cursor` until caught up, then goes live. */
  private async catchUp(entry: Entry, cursor: number): Promise<void> {
    entry.held = [];
    entry.overflowed = false;
    try {
      for (;;) {
        const reached = await pump(entry.feed, cursor, this.limits.pageSize);
        if (reached === null || !this.entries.has(entry)) return;
        cursor = reached;
        const { held, overflowed } = entry;
        [entry.held, entry.overflowed] = [[], false];
        if (overflowed) continue;
        // Held arrivals the last read did not include; a full stream reads the rest from history.
        const fresh = held!.filter((n) => n.seq > cursor);
        let sent = 0;
        while (sent < fresh.length && entry.feed.send(fresh[sent])) cursor = fresh[sent++].seq;
        if (sent < fresh.length) continue;
        entry.held = null;
        return;
      }
    } catch (error) {
      this.entries.delete(entry);
      entry.feed.close(error);
    }
  }
}
