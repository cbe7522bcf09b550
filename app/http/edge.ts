import type { RequestHandler } from 'express';
import { BeepError } from '../domain/errors';
import { IdSource, type LogContext } from '../observability/log-context';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

// What every express app of Beep shares: request ids and timing, JSON body rules, the 404.
// The listener's checks and its one error mapper are the ListenerEdge's (listener-edge.ts).

/**
 * Gives each request an id (X-Request-Id) that every log line of it carries (the rest of the
 * chain runs inside the log context), records its duration by route pattern, and logs it at
 * debug level.
 */
export function requestContext(listener: string, metrics: Metrics, context?: LogContext, logger?: Logger): RequestHandler {
  const ids = context?.ids ?? new IdSource();
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = ids.next();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpDuration.observe({ listener, route, status: String(res.statusCode) }, seconds);
      // Checked first: building the line (and running the redaction format) is wasted work on the hot path otherwise.
      if (logger?.isLevelEnabled('debug')) logger.debug('request', { requestId, method: req.method, path: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 });
    });
    if (context) context.run({ requestId }, next);
    else next();
  };
}

/** A body-carrying request must say it is JSON (415 otherwise). */
export const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) return next(new BeepError('unsupported_media_type'));
  if (!hasBody) return next(new BeepError('invalid_json', 'The request body is empty; send a JSON object.'));
  next();
};

/**
 * A body-parser `verify` hook that refuses JSON nested deeper than `maxDepth` before it is
 * parsed: one pass over the bytes, counting brackets outside strings.
 */
export function jsonDepthGuard(maxDepth: number): (req: unknown, res: unknown, buf: Buffer) => void {
  return (_req, _res, buf) => {
    let depth = 0;
    let inString = false;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (inString) {
        if (c === 0x5c) i++; // backslash: skip the escaped byte
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++depth > maxDepth) throw new BeepError('json_too_deep', `The JSON body is nested deeper than ${maxDepth} levels.`);
      } else if (c === 0x7d || c === 0x5d) depth--;
    }
  };
}

export const notFound: RequestHandler = (_req, _res, next) => next(new BeepError('not_found'));
