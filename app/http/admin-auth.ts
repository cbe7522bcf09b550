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

export const loopbackHostOnly: RequestHandler = (req, _res, next) => {
  const host = req.headers.host;
  if (!host || !LOOPBACK_HOSTS.has(hostName(host))) return next(new BeepError('forbidden_host'));
  next();
};

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value).digest();
}

/** Requires `Authorization: Bearer <admin token>`; `onFailure` hears wrong tokens (audit). */
export function adminToken(token: string, onFailure?: (address: string) => void): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([^\s]+)$/.exec(header);
    if (!match) return next(new BeepError('unauthenticated', 'Send Authorization: Bearer <admin token>.'));
    if (!crypto.timingSafeEqual(digest(match[1]), expected)) {
      onFailure?.(req.socket.remoteAddress ?? 'unknown');
      return next(new BeepError('invalid_token'));
    }
    next();
  };
}
