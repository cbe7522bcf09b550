import type { Router } from 'express';
import { COMPAT_SMALL_BODY_BYTES } from '../../config/defaults';
import { BeepError } from '../../domain/errors';
import type { TokenAdmin } from '../ports';
import type { GotifyActors } from './gotify-actors';
import { GOTIFY_USER } from './gotify-login';
import { fieldReader, idParam } from './gotify-request';

// What the Gotify Android app needs to log in and show its lists (docs/spec.json): POST /client
// (HTTP Basic as "admin" + the dashboard password → a new unscoped subscribe token), GET /client,
// DELETE /client/:id, GET /current/user and GET /user (Beep's one user), GET /plugin (Beep has
// none). Clients are subscribe tokens; applications (publish tokens) are gotify-applications.ts.
// Managing clients takes the login or a client it created (token-rights.ts); reading, any client.

/** Gotify's User model: Beep has exactly one user. */
const ADMIN_USER = { id: 1, name: GOTIFY_USER, admin: true } as const;
/** Characters in a client name, as for any token name. */
const MAX_NAME_CHARS = 64;

function clientName(body: Record<string, unknown>): string {
  for (const key of Object.keys(body)) if (key !== 'name') throw new BeepError('unknown_field', `"${key}" is not a Gotify client field.`);
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (name.length === 0 || [...name].length > MAX_NAME_CHARS) throw new BeepError('validation_failed', `"name" is required (1-${MAX_NAME_CHARS} characters).`);
  return name;
}

/** Adds the account routes to the Gotify router. */
export function gotifyAccountRoutes(router: Router, tokens: TokenAdmin, actors: GotifyActors): void {
  const { who, admin: clientAdmin } = actors;
  const clients = async () => (await tokens.list()).filter((t) => t.kind === 'subscribe');

  const clientFields = fieldReader({ bytes: COMPAT_SMALL_BODY_BYTES });
  router.post('/client', async (req, res) => {
    const by = await clientAdmin(req);
    const { token, secret } = await tokens.create('subscribe', clientName(await clientFields(req, res)), null, by);
    res.status(200).json({ id: token.id, token: secret, name: token.name });
  });

  router.get('/client', async (req, res) => {
    await clientAdmin(req);
    // The secrets are stored hashed: a client's token is shown once, when it is created.
    res.json((await clients()).map((t) => ({ id: t.id, token: '', name: t.name })));
  });

  router.delete('/client/:id', async (req, res) => {
    const by = await clientAdmin(req);
    const id = idParam(req.params.id);
    if (!(await clients()).some((t) => t.id === id)) throw new BeepError('token_not_found', `No client ${id}.`);
    await tokens.revoke(id, by);
    res.status(200).end();
  });

  router.get('/current/user', async (req, res) => {
    await who(req);
    res.json(ADMIN_USER);
  });

  router.get('/user', async (req, res) => {
    await who(req);
    res.json([ADMIN_USER]);
  });

  // Beep has no plugins; the Gotify app and UI ask for the list.
  router.get('/plugin', async (req, res) => {
    await who(req);
    res.json([]);
  });
}
