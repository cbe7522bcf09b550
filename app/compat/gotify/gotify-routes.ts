import express, { Router, type Request } from 'express';
import { MAX_REQUEST_BYTES } from '../../config/defaults';
import { BeepError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { ApiToken } from '../api-tokens';
import { compatErrors } from '../compat-errors';
import { credentialOf, peerOf } from '../credentials';
import type { Publish, SubscriberHistory, TokenGate } from '../ports';
import { toGotifyMessage } from './gotify-message';
import { fromGotify, multipartFields } from './gotify-publish';

// Gotify's REST API on a Beep listener (docs/spec.json): POST /message with an application
// (publish) token, GET /message paging for client (subscribe) tokens, GET /version, and GET
// /health where it does not clash with Beep's own (the gateway only; the admin listener keeps
// Beep's {status, uptime}).

export interface GotifyDeps {
  tokens: TokenGate;
  publish: Publish;
  history: SubscriberHistory;
  version: string;
  /** Gotify's /health shape, or null where Beep's own /health answers. */
  health: (() => Promise<boolean>) | null;
  listener: string;
  logger: Logger;
}

/** Gotify's paging bounds (spec: limit 1-200, default 100). */
const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 100;

function intParam(raw: unknown, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new BeepError('invalid_query', `${name} must be an integer ${min}-${max}.`);
  return n;
}

/** The body as fields, whatever Gotify client sent it: JSON, form-urlencoded or multipart. */
function fieldsOf(req: Request): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (/^multipart\/form-data/i.test(type)) return multipartFields(raw, type);
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

export function gotifyRoutes(deps: GotifyDeps): Router {
  const router = Router();
  const caller = (req: Request) => ({ ip: peerOf(req), protocol: 'gotify' as const, listener: deps.listener });
  const client = (req: Request): Promise<ApiToken> => deps.tokens.authenticate(credentialOf(req), 'subscribe', [], caller(req));

  router.post('/message', express.raw({ type: () => true, limit: MAX_REQUEST_BYTES }), async (req, res) => {
    const token = await deps.tokens.authenticate(credentialOf(req), 'publish', [], caller(req));
    const input = fromGotify(fieldsOf(req), { tokenId: token.id, name: token.name, topic: token.topics?.[0] ?? null });
    const result = await deps.publish.accept(input);
    if ('muted' in result) return void res.status(200).json({ id: 0, appid: token.id, message: input.body, title: input.title, muted: result.muted });
    res.status(200).json(toGotifyMessage(result.notification));
  });

  router.get('/message', async (req, res) => {
    const token = await client(req);
    const limit = intParam(req.query.limit, 'limit', 1, MAX_LIMIT, DEFAULT_LIMIT);
    const since = intParam(req.query.since, 'since', 0, Number.MAX_SAFE_INTEGER, 0);
    const rows = await deps.history.before(since === 0 ? Number.MAX_SAFE_INTEGER : since, token.topics, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.length ? page[page.length - 1].seq : 0;
    const next = rows.length > limit ? `${req.protocol}://${req.get('host')}/message?limit=${limit}&since=${last}` : undefined;
    res.json({ paging: { size: page.length, since: last, limit, ...(next ? { next } : {}) }, messages: page.map(toGotifyMessage) });
  });

  router.get('/version', (_req, res) => {
    res.json({ version: deps.version, commit: '', buildDate: '' });
  });

  const health = deps.health;
  if (health) {
    router.get('/health', async (_req, res) => {
      const ok = await health().catch(() => false);
      res.status(ok ? 200 : 500).json({ health: ok ? 'green' : 'orange', database: ok ? 'green' : 'red' });
    });
  }

  router.use(compatErrors('gotify', deps.logger));
  return router;
}
