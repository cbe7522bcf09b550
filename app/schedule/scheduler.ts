import type { NotificationInput } from '../domain/notification';

// Scheduled delivery: a notification with a due time is accepted at once (stored in its own
// table, so it survives restarts and kill -9) and handed to ingest only when it falls due,
// exactly like one that just arrived: rules, its seq, the commit, the bus. One timer for the
// earliest due time; at start, whatever fell due while the daemon was down goes at once.
// Release is exactly-once: the notification keeps its id, and the outbox answers a second
// append of an id as a duplicate, so a crash between the append and the removal sends nothing twice.

/** One scheduled notification. */
export interface ScheduledEntry {
  id: string;
  dueMs: number;
  createdMs: number;
  input: NotificationInput;
}

/** Where scheduled notifications wait (store/scheduled-store.ts implements it). */
export interface ScheduleStore {
  add(entry: ScheduledEntry): Promise<void>;
  /** Up to `limit` entries due at or before `nowMs`, earliest first. */
  due(nowMs: number, limit: number): Promise<ScheduledEntry[]>;
  /** The earliest due time, or null when nothing waits. */
  nextDueMs(): Promise<number | null>;
  /** Whether it was there. */
  remove(id: string): Promise<boolean>;
  /** Drops every one the API token published; how many. */
  removeByToken(tokenId: number): Promise<number>;
  /** Earliest first, up to `limit`. */
  list(limit: number): Promise<ScheduledEntry[]>;
}

/** Time for the scheduler (injected so tests drive it). */
export interface ScheduleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SchedulerOptions {
  /** ms before retrying when a release failed (the store was busy). */
  retryMs: number;
  /** entries read per release pass. */
  page: number;
  onError?: (error: unknown, context: string) => void;
  /** A scheduled notification was handed on (late by `lateMs` past its due time). */
  onReleased?: (id: string, lateMs: number) => void;
}

/** setTimeout's longest wait; a later due time is reached in hops. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Holds notifications until they are due.
 *
 *   const scheduler = new Scheduler(store, (input) => ingest.release(input), clock, options);
 *   await scheduler.schedule(input, id, dueMs);   // accepted: stored now, sent when due
 *   await scheduler.start();                       // after a restart: what is due goes now
 */
export class Scheduler {
  private timer: unknown = null;
  private armedFor: number | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** The id being handed on right now: too late to cancel. */
  private releasing: string | null = null;
  /**
   * Ids whose cancel is in flight, and those cancelled while a release pass runs (its page may
   * still hold them): the pass skips both, checked synchronously, so a cancel that succeeds is never sent.
   */
  private readonly cancelling = new Set<string>();
  private readonly cancelledThisPass = new Set<string>();

  constructor(
    private readonly store: ScheduleStore,
    private readonly release: (input: NotificationInput) => Promise<unknown>,
    private readonly clock: ScheduleClock,
    private readonly options: SchedulerOptions,
  ) {}

  /** Stores it (resolves once committed: accepted) and makes sure the timer wakes for it. */
  async schedule(input: NotificationInput, id: string, dueMs: number): Promise<void> {
    const { deliverAt: _deliverAt, id: _id, ...rest } = input;
    await this.store.add({ id, dueMs, createdMs: this.clock.now(), input: rest });
    this.arm(dueMs);
  }

  /** Arms the timer for the earliest waiting entry (one already due goes at once). */
  async start(): Promise<void> {
    this.stopped = false;
    this.arm(await this.store.nextDueMs());
  }

  /** Reads the earliest due time again (cluster mode: another node scheduled one, or died holding a claim). */
  async wake(): Promise<void> {
    if (!this.stopped) this.arm(await this.store.nextDueMs());
  }

  /** Stops the timer and waits for a release in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    await this.running;
  }

  /** What waits, earliest first. */
  list(limit: number): Promise<ScheduledEntry[]> {
    return this.store.list(limit);
  }

  /** An API token was revoked (from the bus): what it scheduled is never sent (a leaked token's messages stop with it). */
  tokenRevoked(tokenId: number): void {
    this.store.removeByToken(tokenId).catch((error) => this.options.onError?.(error, 'drop a revoked token\'s scheduled notifications'));
  }

  /** Cancels one that has not been sent; false when unknown, already sent, or being sent right now. */
  async cancel(id: string): Promise<boolean> {
    if (this.releasing === id) return false;
    this.cancelling.add(id);
    try {
      const removed = await this.store.remove(id);
      if (removed && this.running) this.cancelledThisPass.add(id);
      return removed;
    } finally {
      this.cancelling.delete(id);
    }
  }

  private arm(dueMs: number | null): void {
    if (this.stopped || dueMs === null || this.running) return;
    if (this.armedFor !== null && this.armedFor <= dueMs) return;
    this.disarm();
    this.armedFor = dueMs;
    const wait = Math.min(Math.max(0, dueMs - this.clock.now()), MAX_TIMER_MS);
    this.timer = this.clock.setTimeout(() => this.fire(), wait);
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = null;
  }

  private fire(): void {
    this.timer = null;
    this.armedFor = null;
    this.running = this.releaseDue().finally(() => {
      this.running = null;
      this.cancelledThisPass.clear();
    });
  }

  /** Hands on everything due, a page at a time, then re-arms for what is left (or retries soon after a failure). */
  private async releaseDue(): Promise<void> {
    let retry = false;
    try {
      for (;;) {
        const now = this.clock.now();
        const page = await this.store.due(now, this.options.page);
        let handed = 0;
        for (const entry of page) {
          if (this.stopped) return;
          if (this.cancelling.has(entry.id) || this.cancelledThisPass.has(entry.id)) continue;
          this.releasing = entry.id;
          try {
            await this.release({ ...entry.input, id: entry.id });
            await this.store.remove(entry.id);
          } finally {
            this.releasing = null;
          }
          this.options.onReleased?.(entry.id, Math.max(0, this.clock.now() - entry.dueMs));
          handed++;
        }
        // A short page is the end; a page of only cancelled ones waits for the timer (their removal commits meanwhile).
        if (page.length < this.options.page || handed === 0) break;
      }
    } catch (error) {
      this.options.onError?.(error, 'release scheduled notification');
      retry = true;
    }
    if (this.stopped) return;
    let next: number | null = null;
    try {
      next = await this.store.nextDueMs();
    } catch (error) {
      this.options.onError?.(error, 'next scheduled notification');
      retry = true;
    }
    this.running = null;
    if (retry) return this.arm(this.clock.now() + this.options.retryMs);
    this.arm(next);
  }
}
