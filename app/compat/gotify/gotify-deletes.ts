import type { Router } from 'express';
import { BeepError } from '../../domain/errors';
import type { Dismiss, GotifyMessages } from '../ports';
import type { GotifyActors } from './gotify-actors';
import { idParam } from './gotify-request';

// Gotify's deletes: DELETE /message/:id (the app's swipe), DELETE /message (its "delete all")
// and DELETE /application/:id/message. Beep deletes by dismissing, through the path a phone's
// dismiss takes: every phone is told, and the message leaves Gotify's lists (GotifyMessages
// lists what is not dismissed). A scoped client reaches its topics only: a message outside
// them is answered as unknown (404, so it does not even learn it exists) and nothing is touched.

/** What the delete routes need. */
export interface DeleteDeps {
  messages: GotifyMessages;
  dismiss: Dismiss;
  /** Ids dismissed together per page of a bulk delete (each page one group commit). */
  page: number;
  /** Whether an application (a publish token) with this id exists. */
  isApplication: (id: number) => Promise<boolean>;
}

/**
 * Dismisses every listed message within `topics` (of one application when `tokenId`), a page
 * at a time from the newest down, so what arrives meanwhile is left alone. Returns how many.
 *
 *   await dismissListed(deps, null, 7); // every message of application 7
 */
export async function dismissListed(deps: Pick<DeleteDeps, 'messages' | 'dismiss' | 'page'>, topics: string[] | null, tokenId: number | null): Promise<number> {
  let before = Number.MAX_SAFE_INTEGER;
  let count = 0;
  for (;;) {
    const page = await deps.messages.listedIds(before, topics, deps.page, tokenId);
    if (page.length === 0) return count;
    const done = await Promise.all(page.map((m) => deps.dismiss(m.id)));
    count += done.filter(Boolean).length;
    before = page[page.length - 1].seq;
  }
}

/** Adds the delete routes to the Gotify router; any client (or the Basic login) may delete within its topics. */
export function gotifyDeleteRoutes(router: Router, deps: DeleteDeps, actors: GotifyActors): void {
  router.delete('/message/:id', async (req, res) => {
    const { topics } = await actors.reader(req);
    const id = await deps.messages.listedAt(idParam(req.params.id), topics);
    // Unknown, already deleted, or outside the client's topics: the same answer.
    if (id === undefined || !(await deps.dismiss(id))) throw new BeepError('not_found', 'The message does not exist.');
    res.status(200).end();
  });

  router.delete('/message', async (req, res) => {
    const { topics } = await actors.reader(req);
    await dismissListed(deps, topics, null);
    res.status(200).end();
  });

  router.delete('/application/:id/message', async (req, res) => {
    const { topics } = await actors.reader(req);
    const appId = idParam(req.params.id);
    if (!(await deps.isApplication(appId))) throw new BeepError('not_found', `No application ${appId}.`);
    await dismissListed(deps, topics, appId);
    res.status(200).end();
  });
}
