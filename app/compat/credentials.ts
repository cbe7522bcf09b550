import type { IncomingMessage } from 'node:http';
import { addressOf } from '../http/client-address';

// Where ntfy and Gotify clients put their token. ntfy: `Authorization: Bearer <token>`,
// `Authorization: Basic base64(<any user>:<token>)` (what the ntfy app sends for a user and
// password), or `?auth=<base64url of the Authorization value>`. Gotify: `X-Gotify-Key`,
// `?token=` or `Authorization: Bearer`. Both listeners accept every form.

function fromAuthorization(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(value);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)$/i.exec(value);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) || undefined : undefined;
  }
  return undefined;
}

/** The token a request carries, in any of the forms above, or undefined. */
export function credentialOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-gotify-key'];
  if (typeof header === 'string' && header) return header;
  const fromHeader = fromAuthorization(req.headers.authorization);
  if (fromHeader) return fromHeader;
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  const token = query.get('token');
  if (token) return token;
  const auth = query.get('auth');
  if (auth) return fromAuthorization(Buffer.from(auth, 'base64url').toString('utf8'));
  return undefined;
}

/** The client address the listener's edge decided (trusted proxy hops applied), for the failure limiter and the audit trail. */
export function peerOf(req: IncomingMessage): string {
  return addressOf(req);
}
