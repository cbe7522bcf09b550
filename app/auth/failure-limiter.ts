import { RateLimiterMemory } from 'rate-limiter-flexible';
import { BeepError } from '../domain/errors';

// Counts failures per key (an IP, a code) and refuses further attempts once the budget is
// spent; successes cost nothing. Behind this interface so a Redis variant can replace it.

export interface AttemptLimiter {
  /** Throws BeepError('rate_limited') with retryAfter while the key is blocked. */
  check(key: string): Promise<void>;
  /** Records one failure for the key; true when this failure spent the last of its budget. */
  fail(key: string): Promise<boolean>;
}

/**
 * In-memory limiter: `points` failures per `windowSec`.
 *
 *   await limiter.check(ip); if (!ok) await limiter.fail(ip);
 */
export class MemoryAttemptLimiter implements AttemptLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(
    private readonly points: number,
    windowSec: number,
  ) {
    this.limiter = new RateLimiterMemory({ points, duration: windowSec });
  }

  async check(key: string): Promise<void> {
    const state = await this.limiter.get(key);
    if (state && state.consumedPoints >= this.points) {
      throw new BeepError('rate_limited', 'Too many failed attempts; try again later.', {
        retryAfter: Math.max(1, Math.ceil(state.msBeforeNext / 1000)),
      });
    }
  }

  async fail(key: string): Promise<boolean> {
    try {
      const res = await this.limiter.consume(key);
      return res.consumedPoints === this.points;
    } catch {
      return false; // over the limit already: check() refuses the next attempt
    }
  }
}
