import type { Request, Router } from 'express';
import { COMPAT_SMALL_BODY_BYTES } from '../../config/defaults';
import { BeepError } from '../../domain/errors';
import type { Actor, Caller } from '../api-tokens';
import { credentialOf } from '../credentials';
import type { SubscriberHistory, TokenAdmin, TokenGate } from '../ports';
import { basicCredentials, GOTIFY_USER, type GotifyLogin } from './gotify-login';
import { toGotifyPriority } from './gotify-message';
import { fieldReader, pagedMessages } from './gotify-request';

// What the Gotify Android app needs to log in and show its lists (docs/spec.json): POST /client
// (HTTP Basic as "admin" + the dashboard password → a new unscoped subscribe token), GET /client,
// DELETE /client/:id, GET /current/user, GET /application (publish tokens, never their secrets)
// and GET /application/:id/message. Clients are subscribe tokens, applications publish tokens.
// Managing clients takes the login or a client it created (token-rights.ts); reading, any client.

/** What the account routes need; gotify-routes.ts passes its own deps. */
export interface AccountDeps {
  tokens: TokenGate & TokenAdmin;
  login: GotifyLogin;
  history: SubscriberHistory;
  caller: (req: Request) => Caller;
}

/** Gotify's User model: Beep has exactly one user. */
const ADMIN_USER = { id: 1, name: GOTIFY_USER, admin: true } as const;
/** The phone app's icon, shown by the Gotify app next to each application (relative to the server URL). */
const APP_IMAGE = 'icons/icon-192.png';
/** Characters in a client name, as for any token name. */
const MAX_NAME_CHARS = 64;


function clientName(body: Record<string, unknown>): string {
  for (const key of Object.keys(body)) if (key !== 'name') throw new BeepError('unknown_field', `"${key}" is not a Gotify client field.`);
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (name.length === 0 || [...name].length > MAX_NAME_CHARS) throw new BeepError('validation_failed', `"name" is required (1-${MAX_NAME_CHARS} characters).`);
  return name;
}

function idParam(raw: string | undefined): number {
  if (!raw || !/^\d{1,15}$/.test(raw)) throw new BeepError('invalid_query', 'The id must be a positive integer.');
  return Number(raw);
}

/** Adds the account routes to the Gotify router. */
export function gotifyAccountRoutes(router: Router, deps: AccountDeps): void {
  /** Basic auth is the password login (the admin); any other credential must be a client token. */
  const who = async (req: Request): Promise<Actor> => {
    if (basicCredentials(req.headers.authorization)) {
      await deps.login.check(req.headers.authorization, deps.caller(req));
      return 'gotify_login';
    }
    return deps.tokens.authenticate(credentialOf(req), 'subscribe', [], deps.caller(req));
  };
  /** Who may manage clients: the login, or a client it created. */
  const clientAdmin = async (req: Request): Promise<Actor> => {
    const actor = await who(req);
    deps.tokens.requireClientAdmin(actor, deps.caller(req));
    return actor;
  };
  const ofKind = async (kind: 'publish' | 'subscribe') => (await deps.tokens.list()).filter((t) => t.kind === kind);

  const clientFields = fieldReader({ bytes: COMPAT_SMALL_BODY_BYTES });
  router.post('/client', async (req, res) => {
    const by = await clientAdmin(req);
    const { token, secret } = await deps.tokens.create('subscribe', clientName(await clientFields(req, res)), null, by);
    res.status(200).json({ id: token.id, token: secret, name: token.name });
  });

  router.get('/client', async (req, res) => {
    await clientAdmin(req);
    // The secrets are stored hashed: a client's token is shown once, when it is created.
    res.json((await ofKind('subscribe')).map((t) => ({ id: t.id, token: '', name: t.name })));
  });

  router.delete('/client/:id', async (req, res) => {
    const by = await clientAdmin(req);
    const id = idParam(req.params.id);
    if (!(await ofKind('subscribe')).some((t) => t.id === id)) throw new BeepError('token_not_found', `No client ${id}.`);
    await deps.tokens.revoke(id, by);
    res.status(200).end();
  });

  router.get('/current/user', async (req, res) => {
    await who(req);
    res.json(ADMIN_USER);
  });

  router.get('/application', async (req, res) => {
    await who(req);
    res.json(
      (await ofKind('publish')).map((t) => ({
        id: t.id, token: '', name: t.name, description: t.topics ? `Beep publish token (topics: ${t.topics.join(', ')})` : 'Beep publish token',
        internal: false, image: APP_IMAGE, defaultPriority: toGotifyPriority(3),
      })),
    );
  });

  router.get('/application/:id/message', async (req, res) => {
    const caller = await who(req);
    const id = idParam(req.params.id);
    if (!(await ofKind('publish')).some((t) => t.id === id)) throw new BeepError('not_found', `No application ${id}.`);
    res.json(await pagedMessages(req, deps.history, typeof caller === 'string' ? null : caller.topics, id));
  });
}
