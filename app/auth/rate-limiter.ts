import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

// Request budgets (per IP, per device, per route) and progressive blocking, behind small
// interfaces: the memory variants live here; a Redis variant (rate-limiter-flexible's
// RateLimiterRedis) can implement the same interfaces and daemon.ts would pick it.

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

/**
 * In-memory budget.
 *
 *   const perIp = new MemoryRateLimiter(100, 60);
 *   const d = await perIp.consume(ip); if (!d.allowed) answer 429 with Retry-After d.resetSec
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(
    private readonly points: number,
    durationSec: number,
  ) {
    this.limiter = new RateLimiterMemory({ points, duration: durationSec });
  }

  async consume(key: string, points = 1): Promise<RateDecision> {
    try {
      const res = await this.limiter.consume(key, points);
      return { allowed: true, limit: this.points, remaining: res.remainingPoints, resetSec: seconds(res.msBeforeNext) };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return { allowed: false, limit: this.points, remaining: 0, resetSec: seconds(error.msBeforeNext) };
    }
  }
}

/** In-memory progressive blocking: `after` refusals in a row block the key for `blockSec`. */
export class MemoryViolationBlocker implements ViolationBlocker {
  private readonly streak: RateLimiterMemory;
  private readonly blocks: RateLimiterMemory;

  constructor(
    private readonly after: number,
    private readonly blockSec: number,
  ) {
    this.streak = new RateLimiterMemory({ points: after, duration: blockSec });
    this.blocks = new RateLimiterMemory({ points: 1, duration: blockSec });
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
