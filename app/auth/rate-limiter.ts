import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterMemory, RateLimiterRes } from './rate-limiter-store';

// Request budgets (per IP, per device, per route) and progressive blocking, behind small
// interfaces, over any rate-limiter-flexible store: limiter-factory.ts builds them on the
// memory store; [cluster] hands the same classes RateLimiterRedis stores.

/** The outcome of spending one point, with what the RateLimit-* headers report. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (and, when refused, until a retry may succeed). */
  resetSec: number;
}

/** A fixed budget of points per key per window. */
export interface RateLimiter {
  consume(key: string, points?: number): Promise<RateDecision>;
}

/** Counts refusals in a row per key and blocks the key for a while after too many. */
export interface ViolationBlocker {
  /** Seconds the key stays blocked; 0 when it is not. */
  blockedFor(key: string): Promise<number>;
  /** Records one refusal; true when this one got the key blocked. */
  violation(key: string): Promise<boolean>;
  /** A served request ends the streak. */
  success(key: string): Promise<void>;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** What the limiters need from a rate-limiter-flexible store (RateLimiterMemory, RateLimiterRedis, …). */
export type LimiterStore = Pick<RateLimiterAbstract, 'consume' | 'get' | 'delete' | 'block' | 'points'>;

/**
 * A budget of the store's `points` per its `duration`.
 *
 *   const perIp = new StoreRateLimiter(new RateLimiterMemory({ points: 100, duration: 60 }));
 *   const d = await perIp.consume(ip); if (!d.allowed) answer 429 with Retry-After d.resetSec
 */
export class StoreRateLimiter implements RateLimiter {
  constructor(private readonly limiter: LimiterStore) {}

  async consume(key: string, points = 1): Promise<RateDecision> {
    const limit = this.limiter.points;
    try {
      const res = await this.limiter.consume(key, points);
      return { allowed: true, limit, remaining: res.remainingPoints, resetSec: seconds(res.msBeforeNext) };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return { allowed: false, limit, remaining: 0, resetSec: seconds(error.msBeforeNext) };
    }
  }
}

/** In-memory budget: `points` per `durationSec`. */
export class MemoryRateLimiter extends StoreRateLimiter {
  constructor(points: number, durationSec: number) {
    super(new RateLimiterMemory({ points, duration: durationSec }));
  }
}

/**
 * Progressive blocking: `streak.points` refusals in a row block the key for `blockSec`.
 * `streak` lasts `blockSec`; `blocks` has 1 point over `blockSec`.
 */
export class StoreViolationBlocker implements ViolationBlocker {
  private readonly after: number;

  constructor(
    private readonly streak: LimiterStore,
    private readonly blocks: LimiterStore,
    private readonly blockSec: number,
  ) {
    this.after = streak.points;
  }

  async blockedFor(key: string): Promise<number> {
    const res = await this.blocks.get(key);
    return res && res.consumedPoints > 1 ? seconds(res.msBeforeNext) : 0;
  }

  async violation(key: string): Promise<boolean> {
    try {
      const res = await this.streak.consume(key);
      if (res.consumedPoints < this.after) return false;
    } catch {
      // Past the streak budget: block below.
    }
    await this.streak.delete(key);
    await this.blocks.block(key, this.blockSec);
    return true;
  }

  async success(key: string): Promise<void> {
    await this.streak.delete(key);
  }
}

/** In-memory progressive blocking: `after` refusals in a row block the key for `blockSec`. */
export class MemoryViolationBlocker extends StoreViolationBlocker {
  constructor(after: number, blockSec: number) {
    super(new RateLimiterMemory({ points: after, duration: blockSec }), new RateLimiterMemory({ points: 1, duration: blockSec }), blockSec);
  }
}
