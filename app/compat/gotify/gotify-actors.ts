import type { Request } from 'express';
import type { Actor, Caller } from '../api-tokens';
import { credentialOf } from '../credentials';
import type { TokenAdmin, TokenGate } from '../ports';
import { basicCredentials, type GotifyLogin } from './gotify-login';

// Who is asking, on the Gotify routes that take the app's login as well as a client token:
// HTTP Basic is the password login (the admin); any other credential must be a client
// (subscribe) token. Managing clients and applications takes the login or a client it created
// (token-rights.ts); reading and deleting messages, any client, within its topics.

/** What the actors need. */
export interface ActorDeps {
  tokens: TokenGate & Pick<TokenAdmin, 'requireClientAdmin'>;
  login: GotifyLogin;
  caller: (req: Request) => Caller;
}

/** The checks each Gotify account or delete route starts with; each throws when refused. */
export interface GotifyActors {
  /** The login, or a client token. */
  who(req: Request): Promise<Actor>;
  /** `who`, with the topics it reaches (null = every notification, untopiced ones included). */
  reader(req: Request): Promise<{ actor: Actor; topics: string[] | null }>;
  /** `who`, if it may manage clients and applications. */
  admin(req: Request): Promise<Actor>;
}

/** Builds the checks over the token service and the login. */
export function gotifyActors(deps: ActorDeps): GotifyActors {
  const who = async (req: Request): Promise<Actor> => {
    if (basicCredentials(req.headers.authorization)) {
      await deps.login.check(req.headers.authorization, deps.caller(req));
      return 'gotify_login';
    }
    return deps.tokens.authenticate(credentialOf(req), 'subscribe', [], deps.caller(req));
  };
  return {
    who,
    reader: async (req) => {
      const actor = await who(req);
      return { actor, topics: typeof actor === 'string' ? null : actor.topics };
    },
    admin: async (req) => {
      const actor = await who(req);
      deps.tokens.requireClientAdmin(actor, deps.caller(req));
      return actor;
    },
  };
}
