import type { Router } from 'express';
import { COMPAT_SMALL_BODY_BYTES } from '../../config/defaults';
import { BeepError } from '../../domain/errors';
import type { ApiToken, ApplicationFields } from '../api-tokens';
import type { Dismiss, GotifyMessages, TokenAdmin } from '../ports';
import type { GotifyActors } from './gotify-actors';
import { dismissListed } from './gotify-deletes';
import { toGotifyPriority } from './gotify-message';
import { priorityOf } from './gotify-publish';
import { fieldReader, idParam, pagedMessages } from './gotify-request';

// Gotify's applications are Beep's publish tokens. Any client lists them and reads their
// messages; the Gotify app's login and the clients it created (token-rights.ts) also create
// (POST /application: a publish token on a topic of its own, named from its id so no other
// application shares it), rename (PUT, with description and default priority) and delete them
// (DELETE: revoked at once, its messages dismissed on every phone, as Gotify deletes them).
// An application belongs to no client: it outlives the client that made it.

/** What the application routes need. */
export interface ApplicationDeps {
  tokens: TokenAdmin;
  messages: GotifyMessages;
  dismiss: Dismiss;
  /** Ids dismissed together per page when an application's messages go. */
  page: number;
}

/** The phone app's icon, shown by the Gotify app next to each application (relative to the server URL). */
const APP_IMAGE = 'icons/icon-192.png';
/** Characters in an application name, as for any token name. */
const MAX_NAME_CHARS = 64;
/** Characters in an application description. */
const MAX_DESCRIPTION_CHARS = 512;
/** Characters of the name kept in the application's topic (topics are at most 64). */
const TOPIC_NAME_CHARS = 40;
/** ApplicationParams (docs/spec.json). */
const FIELDS = new Set(['name', 'description', 'defaultPriority']);

/**
 * An application's own topic: its name made a topic name, then `-<id>`. The id is the last
 * dash-separated part and ids are never reused, so no two applications share one.
 *
 *   applicationTopic('CI server', 12) // 'ci-server-12'
 */
export function applicationTopic(name: string, id: number): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9_]+/g, '-').replace(/^-+|-+$/g, '').slice(0, TOPIC_NAME_CHARS).replace(/-+$/, '');
  return `${slug || 'app'}-${id}`;
}

/** Gotify's Application model; `token` is shown only when it is created (secrets are stored hashed). */
function toApplication(t: ApiToken, token = '') {
  const generated = t.topics ? `Beep publish token (topics: ${t.topics.join(', ')})` : 'Beep publish token';
  return {
    id: t.id, token, name: t.name, description: t.description ?? generated, internal: false, image: APP_IMAGE,
    defaultPriority: t.defaultPriority ?? toGotifyPriority(3),
  };
}

function applicationFields(body: Record<string, unknown>): ApplicationFields {
  for (const key of Object.keys(body)) if (!FIELDS.has(key)) throw new BeepError('unknown_field', `"${key}" is not a Gotify application field.`);
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (name.length === 0 || [...name].length > MAX_NAME_CHARS) throw new BeepError('validation_failed', `"name" is required (1-${MAX_NAME_CHARS} characters).`);
  const description = body.description === undefined || body.description === null ? '' : body.description;
  if (typeof description !== 'string' || [...description].length > MAX_DESCRIPTION_CHARS) {
    throw new BeepError('validation_failed', `"description" must be text of at most ${MAX_DESCRIPTION_CHARS} characters.`);
  }
  return { name, description, defaultPriority: priorityOf(body.defaultPriority) ?? null };
}

/** Adds the application routes to the Gotify router. */
export function gotifyApplicationRoutes(router: Router, deps: ApplicationDeps, actors: GotifyActors): void {
  const applications = async () => (await deps.tokens.list()).filter((t) => t.kind === 'publish');
  const application = async (raw: string): Promise<ApiToken> => {
    const id = idParam(raw);
    const found = (await applications()).find((t) => t.id === id);
    if (!found) throw new BeepError('not_found', `No application ${id}.`);
    return found;
  };
  const fields = fieldReader({ bytes: COMPAT_SMALL_BODY_BYTES });

  router.get('/application', async (req, res) => {
    await actors.who(req);
    res.json((await applications()).map((t) => toApplication(t)));
  });

  router.post('/application', async (req, res) => {
    const by = await actors.admin(req);
    const { name, ...app } = applicationFields(await fields(req, res));
    const { token, secret } = await deps.tokens.create('publish', name, null, by, { ...app, topicOf: (id) => applicationTopic(name, id) });
    res.status(200).json(toApplication(token, secret));
  });

  router.put('/application/:id', async (req, res) => {
    const by = await actors.admin(req);
    const { id } = await application(req.params.id);
    const updated = await deps.tokens.updateApplication(id, applicationFields(await fields(req, res)), by);
    if (!updated) throw new BeepError('not_found', `No application ${id}.`);
    res.status(200).json(toApplication(updated));
  });

  router.delete('/application/:id', async (req, res) => {
    const by = await actors.admin(req);
    const { id } = await application(req.params.id);
    // Revoked first, so nothing new arrives under it; then its messages go, as in Gotify.
    await deps.tokens.revoke(id, by);
    await dismissListed(deps, null, id);
    res.status(200).end();
  });

  router.get('/application/:id/message', async (req, res) => {
    const { topics } = await actors.reader(req);
    const { id } = await application(req.params.id);
    res.json(await pagedMessages(req, deps.messages, topics, id));
  });
}
