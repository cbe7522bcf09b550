import type { RequestHandler, Response } from 'express';
import { BeepError } from '../domain/errors';
import type { RateDecision, RateLimiter } from '../auth/rate-limiter';
import { addressOf, clientAddress } from './client-address';
import type { GateHooks } from './ip-gate';

// Express glue for a route's own budget (token refresh): the RateLimit-* and Retry-After
// headers. The listener-wide per-IP gate and its violation accounting are the edge's
// (listener-edge.ts, ip-gate.ts); a 429 from here counts toward the address's block there.

/** The client address (trusted proxy hops applied, normalised): client-address.ts's, under its older name. */
export const clientIp = clientAddress;

/** What a refusal records: the gate's hooks, under their older name. */
export type LimitHooks = GateHooks;

/** Sets the RateLimit-* fields (draft-ietf-httpapi-ratelimit-headers) and, when refused, Retry-After. */
export function setRateHeaders(res: Response, d: RateDecision): void {
  res.setHeader('RateLimit-Limit', String(d.limit));
  res.setHeader('RateLimit-Remaining', String(d.remaining));
  res.setHeader('RateLimit-Reset', String(d.resetSec));
  if (!d.allowed) res.setHeader('Retry-After', String(d.resetSec));
}

/** A route's own budget, keyed by the client address the edge decided. */
export function rateLimit(options: { scope: string; limiter: RateLimiter; onLimited?: (scope: string, address: string) => void }): RequestHandler {
  return (req, res, next) => {
    const address = addressOf(req);
    options.limiter.consume(address).then((decision) => {
      setRateHeaders(res, decision);
      if (decision.allowed) return next();
      options.onLimited?.(options.scope, address);
      next(new BeepError('rate_limited', undefined, { retryAfter: decision.resetSec }));
    }, next);
  };
}
