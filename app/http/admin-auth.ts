import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { BeepError } from '../domain/errors';

// The admin listener's two gates: a loopback Host header (against DNS rebinding) and the
// admin token, compared in constant time.

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

export const loopbackHostOnly: RequestHandler = (req, _res, next) => {
  if (!isLoopbackHost(req.headers.host)) return next(new BeepError('forbidden_host'));
  next();
};

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value).digest();
}

/** Requires `Authorization: Bearer <admin token>`. */
export function adminToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([^\s]+)$/.exec(header);
    if (!match) return next(new BeepError('unauthenticated', 'Send Authorization: Bearer <admin token>.'));
    if (!crypto.timingSafeEqual(digest(match[1]), expected)) return next(new BeepError('invalid_token'));
    next();
  };
}
