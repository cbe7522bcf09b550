import http from 'node:http';
import type { Response } from 'express';
import { BeepError, errorBody, type ErrorCode } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Family } from './route-family';

// The one error mapper of both listeners: anything thrown becomes a catalog error (the
// unexpected is logged and becomes `internal`), answered in the shape of the route family the
// request aimed at. Beep: PROTOCOL.md's `{ error: { code, message } }`. ntfy and Gotify
// clients parse their own shapes, so those answer in them with Beep's code as `beep_code`:
//   ntfy:   { "code": 40100, "http": 401, "error": "…", "beep_code": "invalid_token" }
//   Gotify: { "error": "Unauthorized", "errorCode": 401, "errorDescription": "…", "beep_code": "invalid_token" }

/** body-parser's error types, onto the catalog. */
const BODY_PARSER: Record<string, ErrorCode> = {
  'entity.too.large': 'payload_too_large',
  'entity.parse.failed': 'invalid_json',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
};

/** 4xx statuses that express, its router and serve-static set on their errors, onto the catalog. */
const BY_STATUS: Record<number, ErrorCode> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * A catalog error for anything a route, parser or library may throw, or undefined for the
 * unexpected. A client's mistake reported by a library (a param that does not decode, a body
 * that could not be read) is a 4xx, never `internal`.
 */
export function knownError(error: unknown): BeepError | undefined {
  if (error instanceof BeepError) return error;
  const e = error as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.type === 'string' && typeof e.status === 'number') {
    const code = BODY_PARSER[e.type];
    return code ? new BeepError(code) : new BeepError('validation_failed', 'The request body could not be read.');
  }
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (status >= 400 && status < 500) return new BeepError(BY_STATUS[status] ?? 'validation_failed');
  return undefined;
}

/** Anything to a catalog error; the unexpected is logged (with the request id) and becomes `internal`. */
export function asKnown(error: unknown, logger: Logger, context: Record<string, unknown>): BeepError {
  const known = knownError(error);
  if (known) return known;
  logger.error('unexpected error', { ...context, error: (error as Error)?.stack ?? String(error) });
  return new BeepError('internal');
}

/** ntfy's own codes where it has one for the same refusal (server/errors.go); others are status × 100. */
const NTFY_CODES: Partial<Record<ErrorCode, number>> = { attachment_too_large: 41301, invalid_attachment: 40013 };

/** The body of an error in the family's shape. */
export function errorPayload(family: Family, error: BeepError): Record<string, unknown> {
  if (family === 'ntfy') return { code: error.ntfyCode ?? NTFY_CODES[error.code] ?? error.status * 100, http: error.status, error: error.message, beep_code: error.code };
  if (family === 'gotify') {
    return { error: http.STATUS_CODES[error.status] ?? 'Error', errorCode: error.status, errorDescription: error.message, beep_code: error.code };
  }
  return errorBody(error);
}

/** Writes the error on an express response (nothing more when the answer has already begun). */
export function sendError(res: Response, family: Family, error: BeepError): void {
  if (res.headersSent) return void (res.writableEnded || res.end());
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(error.retryAfter));
  res.status(error.status).json(errorPayload(family, error));
}

/** The raw HTTP/1.1 answer to a refused WebSocket upgrade (there is no response object yet). */
export function upgradeAnswer(family: Family, error: BeepError): string {
  const body = JSON.stringify(errorPayload(family, error));
  const retry = error.retryAfter !== undefined ? `Retry-After: ${error.retryAfter}\r\n` : '';
  return (
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\nContent-Type: application/json\r\n${retry}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
