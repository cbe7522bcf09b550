import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterMemory } from './rate-limiter-store';
import { PointFailureBudget, type FailureBudget } from './failure-limiter';
import { StoreRateLimiter, StoreViolationBlocker, type RateLimiter, type ViolationBlocker } from './rate-limiter';

// Every budget of the daemon is made here, so where its counters live is one choice made by the
// composition root: in this process (memory) today; [cluster] passes a store maker that builds
// rate-limiter-flexible's RateLimiterRedis and every limiter is shared by the nodes, behind the
// same interfaces.

/** Makes the limiters; `name` keeps the counters of different budgets apart in a shared store. */
export interface LimiterFactory {
  /** `points` requests per `durationSec` per key. */
  rate(name: string, points: number, durationSec: number): RateLimiter;
  /** `after` refusals in a row block a key for `blockSec`. */
  blocker(name: string, after: number, blockSec: number): ViolationBlocker;
  /** `points` failures per `windowSec` per key, reserved before each attempt is evaluated. */
  failures(name: string, points: number, windowSec: number): FailureBudget;
}

/** Builds one rate-limiter-flexible store (memory, Redis, …) from its options. */
export type StoreMaker = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

/**
 * The limiters over any rate-limiter-flexible store.
 *
 *   const limiters = storeLimiters((o) => new RateLimiterRedis({ storeClient: redis, ...o }));
 */
export function storeLimiters(make: StoreMaker): LimiterFactory {
  return {
    rate: (name, points, durationSec) => new StoreRateLimiter(make({ keyPrefix: `rate:${name}`, points, duration: durationSec })),
    blocker: (name, after, blockSec) =>
      new StoreViolationBlocker(
        make({ keyPrefix: `streak:${name}`, points: after, duration: blockSec }),
        make({ keyPrefix: `block:${name}`, points: 1, duration: blockSec }),
        blockSec,
      ),
    failures: (name, points, windowSec) => new PointFailureBudget(make({ keyPrefix: `fail:${name}`, points, duration: windowSec })),
  };
}

/** The limiters of one daemon process (counters in memory, gone at restart). */
export function memoryLimiters(): LimiterFactory {
  return storeLimiters((options) => new RateLimiterMemory(options));
}
