import { RandomPool } from '../crypto/random-pool';
import { BeepError } from '../domain/errors';
import { storedFrom, type NotificationInput, type NotificationSource, type StoredNotification } from '../domain/notification';
import { parseNotification } from './notification-schema';
import type { RulesEngine } from './rules/rules-engine';
import type { MuteKind } from './rules/rules';

// The one door into the outbox for every source: validate, apply the rules, name, store
// (group commit), and hand the committed notification to delivery.

/** What ingest needs from storage; store/ implements it. */
export interface Outbox {
  append(
    input: NotificationInput,
    id: string,
    afterCommit: (outcome: { notification: StoredNotification; duplicate: boolean }) => void,
  ): Promise<{ notification: StoredNotification; duplicate: boolean }>;
  /** Whether a client id is already stored (a retry skips the rules and answers as before). */
  has(id: string): Promise<boolean>;
}

/** One-shot timers for burst summaries (epoch ms clock, like the engine's). */
export interface SummaryTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** Where a notification with a due time waits until it is due (schedule/Scheduler); resolves once stored. */
export interface Later {
  schedule(input: NotificationInput, id: string, dueMs: number): Promise<void>;
}

/** Optional parts: scheduled delivery, and who is connected (for `Cache: no`, owed only to them). */
export interface IngestExtras {
  later?: Later;
  /** The devices connected now (delivery's live sessions). */
  connectedDevices?: () => string[];
}

/** Told of each newly accepted notification, synchronously after its commit, in seq order. */
export type AcceptedListener = (notification: StoredNotification) => void;

export interface IngestEvents {
  /** A notification received from `source`, before validation: every source passes here. */
  onIngested?: (source: NotificationSource) => void;
  /** Refused by validation (or not stored: not_accepted), by code and source. */
  onRejected?: (code: string, source: NotificationSource) => void;
  onAccepted?: (notification: StoredNotification) => void;
  onMuted?: (kind: MuteKind, source: NotificationSource) => void;
  onError?: (error: unknown, context: string) => void;
}

/** Error-like shape of a store failure (CommitError) without importing the store. */
function isCommitFailure(error: unknown): boolean {
  return (error as Error)?.name === 'CommitError';
}

export interface AcceptedResult {
  notification: StoredNotification;
  duplicate: boolean;
}

/** Accepted (stored, maybe an earlier copy), or muted by a rule (counted, never stored). */
export type IngestResult = AcceptedResult | { muted: MuteKind };

/**
 * Accepts notifications from any source.
 *
 *   const { notification, duplicate } = await ingest.submit(req.body, 'http');
 */
export class IngestService {
  private summaryTimer: unknown = null;
  private summaryDueAt: number | null = null;
  /** Public ids of notifications that come without one. */
  private readonly ids = new RandomPool();

  constructor(
    private readonly outbox: Outbox,
    private readonly deliver: AcceptedListener,
    private readonly events: IngestEvents = {},
    private readonly rules?: { engine: RulesEngine<NotificationInput>; timers: SummaryTimers },
    private readonly extras: IngestExtras = {},
  ) {}

  /** Validates a raw client body with Beep's schema, then accepts it. */
  async submit(raw: unknown, source: NotificationSource): Promise<IngestResult> {
    return (await this.receive(source, () => parseNotification(raw, source))).outcome;
  }

  /**
   * For adapters with a mapping of their own (ntfy, Gotify): counts the notification received
   * from `source`, runs `parse` (a refusal is counted as rejected), then accepts what it returns.
   */
  async receive(source: NotificationSource, parse: () => NotificationInput): Promise<{ input: NotificationInput; outcome: IngestResult }> {
    this.events.onIngested?.(source);
    let input: NotificationInput;
    try {
      input = parse();
    } catch (error) {
      if (error instanceof BeepError) this.events.onRejected?.(error.code, source);
      throw error;
    }
    if (input.deliverAt !== undefined && this.extras.later) return { input, outcome: await this.later(input, input.deliverAt, this.extras.later) };
    return { input, outcome: await this.admit(input) };
  }

  /** A scheduled notification fell due: admitted now like one that just arrived (rules, seq, commit, bus). */
  release(input: NotificationInput): Promise<IngestResult> {
    return this.admit(input);
  }

  /**
   * Accepted for later: stored in the schedule (no seq yet). The answer describes it as it will
   * be delivered, stamped with its due time (ntfy answers a scheduled message's future `time`).
   */
  private async later(input: NotificationInput, dueMs: number, later: Later): Promise<AcceptedResult> {
    const id = input.id ?? this.ids.text(12, 'base64url');
    try {
      await later.schedule(input, id, dueMs);
    } catch (error) {
      if (isCommitFailure(error)) {
        this.events.onRejected?.('not_accepted', input.source);
        throw new BeepError('not_accepted');
      }
      throw error;
    }
    // No seq yet: it is given one when it falls due.
    return { notification: storedFrom(input, id, 0, new Date(dueMs).toISOString()), duplicate: false };
  }

  /** An already-valid notification (desktop captures): counted as received, then admitted. */
  accept(input: NotificationInput): Promise<IngestResult> {
    this.events.onIngested?.(input.source);
    return this.admit(input);
  }

  /** Applies the rules to a validated notification, then stores it (resolves after the commit). */
  private async admit(input: NotificationInput): Promise<IngestResult> {
    if (!this.rules || (input.id !== undefined && (await this.outbox.has(input.id)))) return this.store(input);
    const decision = this.rules.engine.decide(input);
    this.scheduleSummaries();
    if (decision.action === 'mute') {
      this.events.onMuted?.(decision.kind, input.source);
      return { muted: decision.kind };
    }
    return this.store(decision.notification);
  }

  /** Stops the summary timer (shutdown); summaries still pending are dropped with the process. */
  close(): void {
    if (this.summaryTimer !== null) this.rules?.timers.clearTimeout(this.summaryTimer);
    this.summaryTimer = null;
  }

  private scheduleSummaries(): void {
    const rules = this.rules!;
    const due = rules.engine.nextDueAt();
    if (due === this.summaryDueAt) return;
    if (this.summaryTimer !== null) rules.timers.clearTimeout(this.summaryTimer);
    this.summaryTimer = null;
    this.summaryDueAt = due;
    if (due === null) return;
    this.summaryTimer = rules.timers.setTimeout(() => {
      this.summaryTimer = null;
      this.summaryDueAt = null;
      for (const s of rules.engine.dueSummaries()) {
        const app = s.last.app || 'one app';
        const summary: NotificationInput = {
          title: `${s.count} more notification${s.count === 1 ? '' : 's'} from ${app}`,
          body: s.titles.join('\n'),
          app: s.last.app,
          priority: s.priority,
          tags: ['burst'],
          url: null,
          topic: s.last.topic,
          source: s.last.source,
        };
        this.store(summary).catch((e) => this.events.onError?.(e, 'burst summary'));
      }
      this.scheduleSummaries();
    }, Math.max(0, due - rules.timers.now()));
  }

  private async store(given: NotificationInput): Promise<AcceptedResult> {
    const id = given.id ?? this.ids.text(12, 'base64url');
    // Cache: no — owed only to the devices connected now (a device connecting meanwhile settles it unseen).
    const input = given.uncached ? { ...given, owedTo: this.extras.connectedDevices?.() ?? [] } : given;
    try {
      return await this.outbox.append(input, id, ({ notification, duplicate }) => {
        if (duplicate) return;
        this.events.onAccepted?.(notification);
        this.deliver(notification);
      });
    } catch (error) {
      if (isCommitFailure(error)) {
        this.events.onRejected?.('not_accepted', input.source);
        throw new BeepError('not_accepted');
      }
      throw error;
    }
  }
}
