import type { ApiTokenStore, ApplicationExtra, ApplicationFields } from '../compat/api-tokens';
import type { ApiTokenOrigin, ApiTokenRecord, ApiTokenRepository } from './api-token-repository';
import type { GroupWriter } from './group-writer';

// ntfy / Gotify API tokens on SQLite: each change is one write of a group commit; lookups read
// the main connection (index probes) and answer as promises, as a shared store would.

/** What the API-token service needs (compat/api-tokens.ts declares it). */
export class SqliteApiTokens implements ApiTokenStore {
  constructor(
    private readonly writer: GroupWriter,
    private readonly tokens: ApiTokenRepository,
  ) {}

  insertApiToken(
    hash: string,
    kind: 'publish' | 'subscribe',
    name: string,
    topics: string[] | null,
    by: { origin: ApiTokenOrigin; parentId: number | null },
    app?: ApplicationExtra,
  ): Promise<ApiTokenRecord | undefined> {
    return this.writer.run(() => this.tokens.insert(hash, kind, name, topics, by, Date.now(), app));
  }

  updateApplication(id: number, app: ApplicationFields): Promise<ApiTokenRecord | undefined> {
    return this.writer.run(() => this.tokens.update(id, app));
  }

  async apiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    return this.tokens.byHash(hash);
  }

  async listApiTokens(): Promise<ApiTokenRecord[]> {
    return this.tokens.list();
  }

  revokeApiToken(id: number): Promise<number[]> {
    return this.writer.run(() => this.tokens.revoke(id, Date.now()));
  }

  touchApiToken(id: number, atMs: number): Promise<void> {
    return this.writer.run(() => this.tokens.touch(id, atMs));
  }
}
