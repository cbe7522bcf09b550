import type { ErrorRequestHandler, Response } from 'express';
import type { BeepError } from '../domain/errors';
import { asKnown as toKnown, errorPayload as payloadOf, sendError as send } from '../http/error-answer';
import type { Logger } from '../observability/logger';

// ntfy and Gotify clients parse their own error shapes, so the compat routes answer in them
// (with Beep's stable code alongside as `beep_code`). The mapping and the shapes are the
// listeners' one error mapper (http/error-answer.ts); this is the compat routers' view of it.

export type Dialect = 'ntfy' | 'gotify';

/** The body of an error in the dialect's shape. */
export function errorPayload(dialect: Dialect, error: BeepError): Record<string, unknown> {
  return payloadOf(dialect, error);
}

/** Anything to a known error; the unexpected is logged and becomes `internal`. */
export function asKnown(error: unknown, logger: Logger, context: string): BeepError {
  return toKnown(error, logger, { context });
}

export function sendError(res: Response, dialect: Dialect, error: BeepError): void {
  send(res, dialect, error);
}

/** The router-level error handler of one dialect. */
export function compatErrors(dialect: Dialect, logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) =>
    sendError(res, dialect, toKnown(error, logger, { context: `${req.method} ${dialect}`, requestId: res.locals.requestId }));
}
