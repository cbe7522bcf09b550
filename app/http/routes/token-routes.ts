import { Router } from 'express';
import Joi from 'joi';
import { BeepError } from '../../domain/errors';
import type { ApiToken, TokenKind } from '../../compat/api-tokens';
import { parseTopicList } from '../../compat/topics';
import { requireJson } from '../edge';

// Admin: API tokens for ntfy and Gotify clients — create (the secret is shown once), list,
// revoke (refused at once, open streams closed).

/** What the routes need; ApiTokenService implements it. */
export interface TokenAdmin {
  create(kind: TokenKind, name: string, topics: string[] | null): Promise<{ token: ApiToken; secret: string }>;
  list(): Promise<ApiToken[]>;
  revoke(id: number): Promise<boolean>;
}

const createSchema = Joi.object({
  kind: Joi.string().valid('publish', 'subscribe').required(),
  name: Joi.string().trim().min(1).max(64),
  topics: Joi.array().items(Joi.string()).min(1).max(100).allow(null).default(null),
}).prefs({ convert: true });

export function tokenRoutes(tokens: TokenAdmin): Router {
  const router = Router();

  router.post('/api/v1/tokens', requireJson, async (req, res) => {
    const { value, error } = createSchema.validate(req.body);
    if (error) {
      const detail = error.details[0];
      throw new BeepError(detail.type === 'object.unknown' ? 'unknown_field' : 'validation_failed', detail.message);
    }
    const topics = value.topics ? parseTopicList(value.topics) : null;
    const name = value.name ?? `${value.kind} token`;
    const { token, secret } = await tokens.create(value.kind, name, topics);
    res.status(201).json({ ...token, token: secret });
  });

  router.get('/api/v1/tokens', async (_req, res) => {
    res.json((await tokens.list()).map(({ id, kind, name, topics, createdAt, lastUsedAt }) => ({ id, kind, name, topics, createdAt, lastUsedAt })));
  });

  router.delete('/api/v1/tokens/:id', async (req, res) => {
    const id = /^\d{1,15}$/.test(String(req.params.id)) ? Number(req.params.id) : NaN;
    if (!Number.isSafeInteger(id) || !(await tokens.revoke(id))) throw new BeepError('token_not_found');
    res.status(204).end();
  });

  return router;
}
