import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterRes } from './rate-limiter-store';
import { BeepError } from '../domain/errors';
import { addressKey } from './address-key';

// Failure budgets (wrong pairing codes, passwords, API tokens): `points` failures per key per
// window. An attempt RESERVES a point before it is evaluated and gives it back when it
// succeeds, so N concurrent wrong attempts get at most `points` of them evaluated: there is no
// gap between a check and a count for a burst to slip through. The store is any
// rate-limiter-flexible limiter (memory here; [cluster] passes a Redis one, whose consume is
// atomic too).

/** One attempt's reserved point. */
export interface Attempt {
  /** This attempt took the key's last point: if it fails, the key is locked out. */
  readonly last: boolean;
  /** Gives the point back: the attempt succeeded (or was never evaluated). Idempotent. */
  refund(): Promise<void>;
}

/** A failure budget per key; consumers keep the point of a failed attempt and refund the rest. */
export interface FailureBudget {
  /** Throws BeepError('rate_limited') with retryAfter when the key has no point left. */
  reserve(key: string): Promise<Attempt>;
}

/** What a budget needs from a rate-limiter-flexible limiter (RateLimiterMemory, RateLimiterRedis, …). */
export type PointStore = Pick<RateLimiterAbstract, 'consume' | 'reward' | 'points'>;

/**
 * A failure budget over a rate-limiter-flexible store: its `points` failures per its `duration`.
 *
 *   const attempt = await budget.reserve(ip);        // 429 when spent, before any work
 *   if (await checkPassword()) await attempt.refund(); else throw invalid_credentials;
 */
export class PointFailureBudget implements FailureBudget {
  constructor(private readonly store: PointStore) {}

  async reserve(key: string): Promise<Attempt> {
    let res: RateLimiterRes;
    try {
      res = await this.store.consume(key, 1);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      // The store counted the refused try too: take it back, so only evaluated attempts count
      // and a refunded success frees its point even while refused tries keep arriving.
      await this.store.reward(key, 1);
      throw new BeepError('rate_limited', 'Too many failed attempts; try again later.', {
        retryAfter: Math.max(1, Math.ceil(error.msBeforeNext / 1000)),
      });
    }
    let refunded = false;
    return {
      last: res.consumedPoints === this.store.points,
      refund: async () => {
        if (refunded) return;
        refunded = true;
        await this.store.reward(key, 1);
      },
    };
  }
}

/** The same budget keyed by client address: IPv4 (mapped ones unwrapped) or the IPv6 /64. */
export function perAddress(budget: FailureBudget): FailureBudget {
  return { reserve: (address) => budget.reserve(addressKey(address)) };
}

/**
 * Reserves a point in each budget in turn; when one refuses, the points already taken are
 * given back (that attempt was never evaluated) and the refusal is thrown.
 */
export async function reserveAll(reservations: (() => Promise<Attempt>)[]): Promise<Attempt[]> {
  const taken: Attempt[] = [];
  try {
    for (const reserve of reservations) taken.push(await reserve());
  } catch (error) {
    await Promise.all(taken.map((a) => a.refund()));
    throw error;
  }
  return taken;
}
