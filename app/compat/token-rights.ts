import type { Actor } from './api-tokens';

// What a token may do beyond its kind and topics. A subscribe token made with `beep token
// create --subscribe` (or the admin API) reads; it never administers. Gotify clients are
// managed (created, listed, deleted) by the Gotify app's password login, which is the admin,
// and by the clients that login created (the app's own token, as in Gotify). A client created
// by a client may read but not mint, and it is revoked with its creator (the store sweeps the
// lineage); applications (publish tokens) never belong to a client, so deleting a lost phone's
// client never takes a script's token with it.

/**
 * May `who` create, list and delete Gotify clients?
 *
 *   mayManageClients('gotify_login')               // true: the admin's password
 *   mayManageClients({ ...token, origin: 'admin' }) // false: a `beep token create --subscribe` token
 */
export function mayManageClients(who: Actor): boolean {
  if (typeof who === 'string') return true;
  return who.kind === 'subscribe' && who.origin === 'gotify_login' && who.topics === null;
}
