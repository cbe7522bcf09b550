import { Router, type Request } from 'express';
import { COMPAT_PUBLISH_BODY_BYTES } from '../../config/defaults';
import type { Logger } from '../../observability/logger';
import { compatErrors } from '../compat-errors';
import { credentialOf, peerOf } from '../credentials';
import type { Dismiss, GotifyMessages, Publish, TokenAdmin, TokenGate } from '../ports';
import { gotifyAccountRoutes } from './gotify-accounts';
import { gotifyActors } from './gotify-actors';
import { gotifyApplicationRoutes } from './gotify-applications';
import { gotifyDeleteRoutes } from './gotify-deletes';
import type { GotifyLogin } from './gotify-login';
import { toGotifyMessage } from './gotify-message';
import { fromGotify } from './gotify-publish';
import { fieldReader, pagedMessages } from './gotify-request';

// Gotify's REST API on a Beep listener (docs/spec.json): POST /message with an application
// (publish) token, GET /message paging for clients (subscribe tokens, or the Basic login),
// GET /version, GET /health where it does not clash with Beep's own (the gateway only; the
// admin listener keeps Beep's {status, uptime}), the deletes (gotify-deletes.ts), the
// applications (gotify-applications.ts) and the Gotify app's login and account routes
// (gotify-accounts.ts).

export interface GotifyDeps {
  tokens: TokenGate & TokenAdmin;
  login: GotifyLogin;
  publish: Publish;
  /** Gotify's lists: what is not dismissed. */
  messages: GotifyMessages;
  /** A Gotify delete: dismissed on every phone, as a phone's dismiss is. */
  dismiss: Dismiss;
  /** Ids dismissed together per page of a bulk delete. */
  deletePage: number;
  version: string;
  /** Gotify's /health shape, or null where Beep's own /health answers. */
  health: (() => Promise<boolean>) | null;
  listener: string;
  logger: Logger;
}

export function gotifyRoutes(deps: GotifyDeps): Router {
  const router = Router();
  const caller = (req: Request) => ({ ip: peerOf(req), protocol: 'gotify' as const, listener: deps.listener });
  const actors = gotifyActors({ tokens: deps.tokens, login: deps.login, caller });

  // Bodies are read only once the token is checked, and only as far as a message needs.
  const messageFields = fieldReader({ bytes: COMPAT_PUBLISH_BODY_BYTES });
  router.post('/message', async (req, res) => {
    const token = await deps.tokens.authenticate(credentialOf(req), 'publish', [], caller(req));
    const fields = await messageFields(req, res);
    const app = { tokenId: token.id, name: token.name, topic: token.topics?.[0] ?? null, defaultPriority: token.defaultPriority };
    const { input, outcome } = await deps.publish.receive('gotify', () => fromGotify(fields, app));
    if ('muted' in outcome) return void res.status(200).json({ id: 0, appid: token.id, message: input.body, title: input.title, muted: outcome.muted });
    res.status(200).json(toGotifyMessage(outcome.notification));
  });

  router.get('/message', async (req, res) => {
    const { topics } = await actors.reader(req);
    res.json(await pagedMessages(req, deps.messages, topics, null));
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

  const { messages, dismiss, deletePage: page } = deps;
  const isApplication = async (id: number) => (await deps.tokens.list()).some((t) => t.kind === 'publish' && t.id === id);
  gotifyDeleteRoutes(router, { messages, dismiss, page, isApplication }, actors);
  gotifyApplicationRoutes(router, { tokens: deps.tokens, messages, dismiss, page }, actors);
  gotifyAccountRoutes(router, deps.tokens, actors);
  router.use(compatErrors('gotify', deps.logger));
  return router;
}
