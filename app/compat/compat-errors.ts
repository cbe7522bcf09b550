import type { ErrorRequestHandler, Response } from 'express';
import http from 'node:http';
import { BeepError } from '../domain/errors';
import type { Logger } from '../observability/logger';

// ntfy and Gotify clients parse their own error shapes, so the compat routes answer in them
// (with Beep's stable code alongside as `beep_code`):
//   ntfy:   { "code": 40100, "http": 401, "error": "…", "beep_code": "invalid_token" }
//   Gotify: { "error": "Unauthorized", "errorCode": 401, "errorDescription": "…", "beep_code": "invalid_token" }

export type Dialect = 'ntfy' | 'gotify';

function fromBodyParser(error: { type?: string }): BeepError | undefined {
  if (error?.type === 'entity.too.large') return new BeepError('payload_too_large');
  if (error?.type === 'entity.parse.failed') return new BeepError('invalid_json');
  if (typeof error?.type === 'string') return new BeepError('validation_failed', 'The request body could not be read.');
  return undefined;
}

/** The body of an error in the dialect's shape. */
export function errorPayload(dialect: Dialect, error: BeepError): Record<string, unknown> {
  return dialect === 'ntfy'
    ? { code: error.status * 100, http: error.status, error: error.message, beep_code: error.code }
    : { error: http.STATUS_CODES[error.status] ?? 'Error', errorCode: error.status, errorDescription: error.message, beep_code: error.code };
}

/** Anything to a known error; the unexpected is logged and becomes `internal`. */
export function asKnown(error: unknown, logger: Logger, context: string): BeepError {
  const known = error instanceof BeepError ? error : fromBodyParser(error as { type?: string });
  if (known) return known;
  logger.error('unexpected error', { context, error: (error as Error)?.stack ?? String(error) });
  return new BeepError('internal');
}

export function sendError(res: Response, dialect: Dialect, error: BeepError): void {
  if (res.headersSent) return void res.end();
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(error.retryAfter));
  res.status(error.status).json(errorPayload(dialect, error));
}

/** The router-level error handler of one dialect. */
export function compatErrors(dialect: Dialect, logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => sendError(res, dialect, asKnown(error, logger, `${req.method} ${dialect}`));
}
