import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { BeepError } from '../domain/errors';

// Requests per key per window for API tokens. Behind this interface so the general rate
// limiter being built on another branch (or a Redis one) can replace it.

/** Spends one request for the key; throws BeepError('rate_limited') with retryAfter when spent. */
export interface RequestLimiter {
  consume(key: string): Promise<void>;
}

/**
 * In-memory fixed budget: `points` requests per `windowSec` per key.
 *
 *   await limiter.consume(`token:${id}`); // throws rate_limited past the budget
 */
export class MemoryRequestLimiter implements RequestLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(points: number, windowSec: number) {
    this.limiter = new RateLimiterMemory({ points, duration: windowSec });
  }

  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw new BeepError('rate_limited', undefined, { retryAfter: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) });
    }
  }
}
