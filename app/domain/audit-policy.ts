import type { AuditEvent, AuditInput } from './audit-chain';

// What the audit log keeps of each event, pure (clock passed in). Security events stay
// audited, but none may grow the log once per request: a wrong credential is counted per
// address per window (one entry with the count), a token's ordinary use is written once per
// day, and a request with no credential at all is only counted in metrics.

/** How an event reaches the log. */
export type AuditTreatment = 'record' | 'per_window' | 'daily' | 'metric_only';

/** Events not named here are recorded one entry each (they are rare by nature). */
export const AUDIT_POLICY: Partial<Record<AuditEvent, AuditTreatment>> = {
  auth_failed: 'per_window',
  pairing_failed: 'per_window',
  api_token_refused: 'per_window',
  gotify_login_refused: 'per_window',
  api_token_used: 'daily',
  api_token_missing: 'metric_only',
};

export function treatmentOf(event: AuditEvent): AuditTreatment {
  return AUDIT_POLICY[event] ?? 'record';
}

/** One address's failures of one kind in one window, as the entry it becomes. */
export interface WindowedFailures {
  event: AuditEvent;
  actor: string;
  /** The first failure's details. */
  details: Record<string, unknown>;
  count: number;
  firstMs: number;
  lastMs: number;
  windowStartMs: number;
  windowEndMs: number;
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** The entry's details: the first failure's, plus how many and when. */
export function windowDetails(w: WindowedFailures): Record<string, unknown> {
  return {
    ...w.details,
    count: w.count,
    firstAt: new Date(w.firstMs).toISOString(),
    lastAt: new Date(w.lastMs).toISOString(),
    window: [new Date(w.windowStartMs).toISOString(), new Date(w.windowEndMs).toISOString()],
  };
}

/**
 * Failures counted per (event, actor, address, reason) in fixed windows aligned to the epoch.
 *
 *   const w = new FailureWindows(600_000, 10_000);
 *   w.add({ event: 'api_token_refused', actor: 'ip:192.0.2.7', details: { reason: 'unknown_or_revoked' } }, now);
 *   w.due(now + 600_000); // [{ count: 1, ... }]: write it
 */
export class FailureWindows {
  private readonly open = new Map<string, WindowedFailures>();

  constructor(
    private readonly windowMs: number,
    private readonly maxOpen: number,
  ) {}

  /** Counts one failure; returns windows that must be written now to stay within `maxOpen`. */
  add(input: AuditInput, nowMs: number): WindowedFailures[] {
    const windowStartMs = Math.floor(nowMs / this.windowMs) * this.windowMs;
    const { details } = input;
    const key = JSON.stringify([input.event, input.actor, str(details.ip), str(details.reason ?? details.code), windowStartMs]);
    const known = this.open.get(key);
    if (known) {
      known.count++;
      known.lastMs = Math.max(known.lastMs, nowMs);
      return [];
    }
    const evicted: WindowedFailures[] = [];
    while (this.open.size >= this.maxOpen) {
      const [oldest, w] = this.open.entries().next().value as [string, WindowedFailures];
      this.open.delete(oldest);
      evicted.push(w);
    }
    this.open.set(key, { ...input, count: 1, firstMs: nowMs, lastMs: nowMs, windowStartMs, windowEndMs: windowStartMs + this.windowMs });
    return evicted;
  }

  /** Windows that have ended by `nowMs`, removed from the open set. */
  due(nowMs: number): WindowedFailures[] {
    const done: WindowedFailures[] = [];
    for (const [key, w] of this.open) {
      if (w.windowEndMs <= nowMs) {
        done.push(w);
        this.open.delete(key);
      }
    }
    return done;
  }

  /** Every open window, removed (at stop). */
  drain(): WindowedFailures[] {
    const all = [...this.open.values()];
    this.open.clear();
    return all;
  }

  /** The open windows, newest failure first (the admin list shows them as pending). */
  peek(): WindowedFailures[] {
    return [...this.open.values()].sort((a, b) => b.lastMs - a.lastMs);
  }
}

/** ms in a (UTC) day. */
const DAY_MS = 86_400_000;

/** The first ordinary use of each token per UTC day. */
export class DailyFirstUse {
  private day = -1;
  private readonly seen = new Set<string>();

  /** true the first time `actor` is seen on the UTC day of `nowMs`. */
  first(actor: string, nowMs: number): boolean {
    const day = Math.floor(nowMs / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.seen.clear();
    }
    if (this.seen.has(actor)) return false;
    this.seen.add(actor);
    return true;
  }

  /** Start of the UTC day of `nowMs`. */
  static dayStart(nowMs: number): number {
    return Math.floor(nowMs / DAY_MS) * DAY_MS;
  }
}
