import type Redis from 'ioredis';
import type { ApiTokenStore, ApplicationExtra, ApplicationFields } from '../compat/api-tokens';
import type { ApiTokenOrigin, ApiTokenRecord } from '../store/api-token-repository';
import { INSERT_TOKEN, REVOKE_TOKEN, TOKEN_BY_HASH, TOUCH_TOKEN, UPDATE_APPLICATION } from './api-token-scripts';
import { committed } from './redis-commit';
import type { RedisKeys } from './redis-keys';

// ntfy / Gotify API tokens on Redis, shared by every node (what store/api-token-store.ts is on
// SQLite): only the SHA-256 of a secret is stored, as the key of its lookup; a token's record is
// a hash (its name, topics, origin, parent, a Gotify application's description and default
// priority, in clear as in SQLite). Each lookup reads Redis, so a token revoked on one node is
// refused by the next request on any node. Ids come from one counter, as SQLite's AUTOINCREMENT.

/** What the API-token service needs (compat/api-tokens.ts declares it), for every node of a cluster. */
export class RedisApiTokens implements ApiTokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async insertApiToken(
    hash: string,
    kind: 'publish' | 'subscribe',
    name: string,
    topics: string[] | null,
    by: { origin: ApiTokenOrigin; parentId: number | null },
    app?: ApplicationExtra,
  ): Promise<ApiTokenRecord | undefined> {
    // The id first: an application's topic is named from it, in the same script that stores it.
    // The script takes the id only if no other insert took it meanwhile (then read it again).
    for (;;) {
      const id = Number((await this.redis.get(this.keys.apiTokenSeq)) ?? 0) + 1;
      const ownTopics = app ? [app.topicOf(id)] : topics;
      const fields: Record<string, string> = { kind, name, createdMs: String(Date.now()), origin: by.origin };
      if (ownTopics) fields.topics = JSON.stringify(ownTopics);
      if (by.parentId !== null) fields.parentId = String(by.parentId);
      if (app) fields.description = app.description;
      if (app && app.defaultPriority !== null) fields.defaultPriority = String(app.defaultPriority);
      const stored = Number(await committed(INSERT_TOKEN.run(this.redis, [this.keys.prefix, id, hash, JSON.stringify(fields), by.parentId ?? ''])));
      if (stored === -1) continue;
      return stored === 1 ? this.byId(id) : undefined;
    }
  }

  async updateApplication(id: number, app: ApplicationFields): Promise<ApiTokenRecord | undefined> {
    const updated = Number(await committed(UPDATE_APPLICATION.run(this.redis, [this.keys.prefix, id, app.name, app.description, app.defaultPriority ?? ''])));
    return updated === 1 ? this.byId(id) : undefined;
  }

  async apiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const reply = (await TOKEN_BY_HASH.run(this.redis, [this.keys.prefix, hash])) as string[] | null;
    if (!reply) return undefined;
    const [id, ...flat] = reply;
    return recordOf(Number(id), pairs(flat));
  }

  async listApiTokens(): Promise<ApiTokenRecord[]> {
    const ids = await this.redis.zrange(this.keys.apiTokens, 0, -1);
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.apiToken(Number(id)));
    const replies = (await pipe.exec()) ?? [];
    const records: ApiTokenRecord[] = [];
    ids.forEach((id, i) => {
      const [error, h] = replies[i] as [Error | null, Record<string, string>];
      if (error) throw error;
      const record = recordOf(Number(id), h);
      if (record && record.revokedAt === null) records.push(record);
    });
    return records;
  }

  /** The ids revoked (`id` first, then the clients created under it, ascending); empty when unknown or already revoked. */
  async revokeApiToken(id: number): Promise<number[]> {
    const ids = (await committed(REVOKE_TOKEN.run(this.redis, [this.keys.prefix, id, Date.now()]))) as number[];
    if (ids.length === 0) return [];
    return [id, ...ids.filter((x) => x !== id).sort((a, b) => a - b)];
  }

  async touchApiToken(id: number, atMs: number): Promise<void> {
    await committed(TOUCH_TOKEN.run(this.redis, [this.keys.prefix, id, atMs]));
  }

  private async byId(id: number): Promise<ApiTokenRecord | undefined> {
    return recordOf(id, await this.redis.hgetall(this.keys.apiToken(id)));
  }
}

/** A flat HGETALL reply ([k1, v1, ...]) as an object. */
function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

/** A token's record from its hash; undefined for an empty one. */
function recordOf(id: number, h: Record<string, string>): ApiTokenRecord | undefined {
  if (h.kind === undefined) return undefined;
  const iso = (ms: string | undefined) => (ms === undefined ? null : new Date(Number(ms)).toISOString());
  return {
    id,
    kind: h.kind as ApiTokenRecord['kind'],
    name: h.name ?? '',
    topics: h.topics === undefined ? null : (JSON.parse(h.topics) as string[]),
    createdAt: iso(h.createdMs)!,
    lastUsedAt: iso(h.lastUsedMs),
    revokedAt: iso(h.revokedMs),
    origin: (h.origin ?? 'admin') as ApiTokenOrigin,
    parentId: h.parentId === undefined ? null : Number(h.parentId),
    description: h.description ?? null,
    defaultPriority: h.defaultPriority === undefined ? null : Number(h.defaultPriority),
  };
}
