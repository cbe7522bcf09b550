import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Response } from 'express';
import { BeepError } from '../domain/errors';
import type { RateDecision, RateLimiter, ViolationBlocker } from '../auth/rate-limiter';

// Express glue for the rate limiters: the client address (X-Forwarded-For only through a
// configured number of proxies), RateLimit-* and Retry-After headers, and progressive blocking.

/**
 * The client address: the socket's peer, or with `hops` trusted proxies in front, the entry
 * `hops` places from the right of X-Forwarded-For (what the nearest proxy saw). A forged
 * header cannot move it further left than the proxies allow.
 */
export function clientIp(req: IncomingMessage, hops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (hops === 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  return chain[Math.max(0, chain.length - 1 - hops)];
}

/** Sets the RateLimit-* fields (draft-ietf-httpapi-ratelimit-headers) and, when refused, Retry-After. */
export function setRateHeaders(res: Response, d: RateDecision): void {
  res.setHeader('RateLimit-Limit', String(d.limit));
  res.setHeader('RateLimit-Remaining', String(d.remaining));
  res.setHeader('RateLimit-Reset', String(d.resetSec));
  if (!d.allowed) res.setHeader('Retry-After', String(d.resetSec));
}

export interface LimitHooks {
  /** A request was refused; scope names the budget. */
  onLimited?: (scope: string, ip: string) => void;
  /** An IP just got blocked for too many refusals in a row. */
  onBlocked?: (ip: string) => void;
}

/** A route's own budget, keyed by client IP (or something derived from it). */
export function rateLimit(options: { scope: string; limiter: RateLimiter; hops: number; hooks?: LimitHooks }): RequestHandler {
  return (req, res, next) => {
    const ip = clientIp(req, options.hops);
    options.limiter.consume(ip).then((decision) => {
      setRateHeaders(res, decision);
      if (decision.allowed) return next();
      options.hooks?.onLimited?.(options.scope, ip);
      next(new BeepError('rate_limited', undefined, { retryAfter: decision.resetSec }));
    }, next);
  };
}

/**
 * The listener-wide guard, first in line: refuses a blocked IP, spends one point of the
 * per-IP budget, and when the answer is written counts it: a 429 (from any limit) extends the
 * IP's streak of violations, anything else ends it.
 */
export function ipGuard(options: { limiter: RateLimiter; blocker: ViolationBlocker; hops: number; hooks?: LimitHooks }): RequestHandler {
  const { limiter, blocker, hooks = {} } = options;
  return (req, res, next) => {
    const ip = clientIp(req, options.hops);
    res.locals.clientIp = ip;
    res.on('finish', () => {
      if (res.statusCode !== 429) return void blocker.success(ip);
      if (res.locals.blockedAlready) return;
      void blocker.violation(ip).then((blocked) => blocked && hooks.onBlocked?.(ip));
    });
    void (async () => {
      const blockedFor = await blocker.blockedFor(ip);
      if (blockedFor > 0) {
        res.locals.blockedAlready = true;
        hooks.onLimited?.('blocked', ip);
        throw new BeepError('ip_blocked', undefined, { retryAfter: blockedFor });
      }
      const decision = await limiter.consume(ip);
      setRateHeaders(res, decision);
      if (!decision.allowed) {
        hooks.onLimited?.('gateway_ip', ip);
        throw new BeepError('rate_limited', undefined, { retryAfter: decision.resetSec });
      }
    })().then(() => next(), next);
  };
}
