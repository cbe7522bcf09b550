import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { BeepError, errorBody } from '../domain/errors';
import { newId, type LogContext } from '../observability/log-context';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

// What every express app of Beep shares at its edges: request ids and timing, JSON body
// rules, the 404, and the one error handler that turns anything into PROTOCOL.md's shape.

/**
 * Gives each request an id (X-Request-Id) that every log line of it carries (the rest of the
 * chain runs inside the log context), records its duration by route pattern, and logs it at
 * debug level.
 */
export function requestContext(listener: string, metrics: Metrics, context?: LogContext, logger?: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = newId();
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

/** Maps body-parser failures onto the catalog. */
function fromBodyParser(error: { type?: string; status?: number }): BeepError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new BeepError('payload_too_large');
    case 'entity.parse.failed':
      return new BeepError('invalid_json');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new BeepError('unsupported_media_type');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new BeepError('validation_failed', 'The request body could not be read.');
    default:
      return undefined;
  }
}

/** The single error handler: catalog errors as they are, everything else as `internal`. */
export function errorHandler(logger: Logger, onInternal?: () => void): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let known = error instanceof BeepError ? error : fromBodyParser(error as { type?: string });
    if (!known) {
      logger.error('unexpected error', {
        requestId: res.locals.requestId,
        method: req.method,
        route: req.route?.path ?? 'unmatched',
        error: (error as Error)?.stack ?? String(error),
      });
      onInternal?.();
      known = new BeepError('internal');
    }
    if (known.retryAfter !== undefined) res.setHeader('Retry-After', String(known.retryAfter));
    if (res.headersSent) return;
    res.status(known.status).json(errorBody(known));
  };
}
