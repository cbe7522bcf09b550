import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { BeepError } from '../domain/errors';

// The admin listener's gates: a loopback Host header (against DNS rebinding; the listener's
// edge applies isLoopbackHost to requests and upgrades alike), then either the admin token
// (compared in constant time) or a dashboard session cookie, whose writes must also carry the
// session's CSRF token.

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Strips the port from a Host header ("127.0.0.1:2338", "[::1]:2338"). */
function hostName(header: string): string {
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return (colon >= 0 ? header.slice(0, colon) : header).toLowerCase();
}

/** Whether a Host header names this machine's loopback (also checked on WebSocket upgrades). */
export function isLoopbackHost(host: string | undefined): boolean {
  return Boolean(host) && LOOPBACK_HOSTS.has(hostName(host!));
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value).digest();
}

/** What the gate needs from dashboard sessions. */
export interface SessionLookup {
  get(sessionId: string | undefined): Promise<{ csrfToken: string } | undefined>;
}

export const SESSION_COOKIE = 'beep_session';

/** The dashboard session cookie's value, if the request carries one. */
export function sessionCookie(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/**
 * Whether a presented admin token is the token, in time that depends only on its length (the
 * token's length is public: every token has the same format). No hash per request: a script
 * posting all day pays one buffer and one constant-time compare.
 */
function sameToken(presented: string, expected: Buffer): boolean {
  const bytes = Buffer.from(presented);
  return bytes.length === expected.length && crypto.timingSafeEqual(bytes, expected);
}

function sameSecret(a: string, b: string): boolean {
  return crypto.timingSafeEqual(digest(a), digest(b));
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Requires `Authorization: Bearer <admin token>`, or (when `sessions` is given) a dashboard
 * session; `onFailure` hears wrong tokens (audit) with the client address `addressOf` gives.
 */
export function adminAuth(
  token: string,
  sessions?: SessionLookup,
  addressOf: (req: Request) => string = (req) => req.socket.remoteAddress ?? 'unknown',
  onFailure?: (address: string) => void,
): RequestHandler {
  const expectedBytes = Buffer.from(token);
  const bySession = async (req: Request, res: Response, next: NextFunction, lookup: SessionLookup) => {
    const session = await lookup.get(sessionCookie(req));
    if (!session) return next(new BeepError('unauthenticated', 'Send Authorization: Bearer <admin token>, or log in with `beep dashboard`.'));
    if (!SAFE_METHODS.has(req.method)) {
      const csrf = req.get('x-csrf-token');
      if (!csrf || !sameSecret(csrf, session.csrfToken)) return next(new BeepError('csrf_failed'));
    }
    res.locals.auth = 'session';
    next();
  };
  // Synchronous for the token (every script's post passes here); only a session lookup awaits.
  return (req, res, next) => {
    const header = req.headers.authorization;
    if (!header && sessions) return bySession(req, res, next, sessions);
    const match = /^Bearer ([^\s]+)$/.exec(header ?? '');
    if (!match) return next(new BeepError('unauthenticated', 'Send Authorization: Bearer <admin token>.'));
    if (!sameToken(match[1], expectedBytes)) {
      onFailure?.(addressOf(req));
      return next(new BeepError('invalid_token'));
    }
    res.locals.auth = 'token';
    next();
  };
}

/** Only the admin token, never a cookie (minting login links, diagnostics). */
export const tokenOnly: RequestHandler = (_req, res, next) => {
  if (res.locals.auth !== 'token') return next(new BeepError('forbidden', 'This call needs the admin token.'));
  next();
};
