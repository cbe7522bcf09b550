import type { Request, Response } from 'express';
import { BeepError } from '../../domain/errors';
import { bodyReader, readMultipart, type BodyLimit } from '../compat-body';
import type { GotifyMessages } from '../ports';
import { toGotifyMessage, type GotifyMessage } from './gotify-message';

// What the Gotify routes share: reading a body however a Gotify client sent it, integer query
// parameters, and the PagedMessages answer of GET /message and GET /application/:id/message.

/** Gotify's paging bounds (spec: limit 1-200, default 100). */
const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 100;

/** A bounded integer query parameter, or invalid_query. */
export function intParam(raw: unknown, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new BeepError('invalid_query', `${name} must be an integer ${min}-${max}.`);
  return n;
}

/** A Gotify id in the path (a message's seq, a token's id), or invalid_query. */
export function idParam(raw: string | undefined): number {
  if (!raw || !/^\d{1,15}$/.test(raw)) throw new BeepError('invalid_query', 'The id must be a positive integer.');
  return Number(raw);
}

/**
 * A reader of the body as fields, whatever Gotify client sent it: JSON, form-urlencoded or
 * multipart (streamed), at most `limit` bytes. Call it only once the request is authenticated.
 */
export function fieldReader(limit: BodyLimit): (req: Request, res: Response) => Promise<Record<string, unknown>> {
  const read = bodyReader(limit);
  return async (req, res) => {
    if (req.is('multipart/form-data')) return readMultipart(req, res, limit);
    return fieldsOf(req.headers['content-type'] ?? '', await read(req, res));
  };
}

function fieldsOf(type: string, raw: Buffer): Record<string, unknown> {
  if (/^application\/x-www-form-urlencoded/i.test(type)) return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BeepError('invalid_json');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BeepError('invalid_type', 'The body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** Gotify's PagedMessages: newest first below `since`, `next` linking the following page; what is dismissed is not listed. */
export async function pagedMessages(
  req: Request,
  messages: GotifyMessages,
  topics: string[] | null,
  tokenId: number | null,
): Promise<{ paging: { size: number; since: number; limit: number; next?: string }; messages: GotifyMessage[] }> {
  const limit = intParam(req.query.limit, 'limit', 1, MAX_LIMIT, DEFAULT_LIMIT);
  const since = intParam(req.query.since, 'since', 0, Number.MAX_SAFE_INTEGER, 0);
  const rows = await messages.listed(since === 0 ? Number.MAX_SAFE_INTEGER : since, topics, limit + 1, tokenId);
  const page = rows.slice(0, limit);
  const last = page.length ? page[page.length - 1].seq : 0;
  const next = rows.length > limit ? `${req.protocol}://${req.get('host')}${req.path}?limit=${limit}&since=${last}` : undefined;
  return { paging: { size: page.length, since: last, limit, ...(next ? { next } : {}) }, messages: page.map(toGotifyMessage) };
}
