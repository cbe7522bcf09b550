import type { Db } from './database';
import type { ApplicationExtra, ApplicationFields } from '../compat/api-tokens';

// ntfy / Gotify API tokens: only their SHA-256 hashes are stored; reads are tiny and indexed,
// so they run on the main connection. Each records how it was created (migration 007): a
// Gotify client created by another client is revoked with it.

/** How a token was created: by the admin, by the Gotify Basic login, or by a Gotify client (its parent). */
export type ApiTokenOrigin = 'admin' | 'gotify_login' | 'gotify_client';

/** A token as the rest of Beep sees it (never the secret). */
export interface ApiTokenRecord {
  id: number;
  kind: 'publish' | 'subscribe';
  name: string;
  topics: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  origin: ApiTokenOrigin;
  /** The client token that created it ('gotify_client'), else null. */
  parentId: number | null;
  /** A Gotify application's description (migration 015); null when none was given. */
  description: string | null;
  /** The Gotify priority of its messages that give none (migration 015); null = Beep's default. */
  defaultPriority: number | null;
}


interface TokenRow {
  id: number;
  kind: 'publish' | 'subscribe';
  name: string;
  topics: string | null;
  created_ms: number;
  last_used_ms: number | null;
  revoked_ms: number | null;
  origin: ApiTokenOrigin;
  parent_id: number | null;
  description: string | null;
  default_priority: number | null;
}

function toRecord(row: TokenRow): ApiTokenRecord {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    topics: row.topics === null ? null : (JSON.parse(row.topics) as string[]),
    createdAt: new Date(row.created_ms).toISOString(),
    lastUsedAt: iso(row.last_used_ms),
    revokedAt: iso(row.revoked_ms),
    origin: row.origin,
    parentId: row.parent_id,
    description: row.description,
    defaultPriority: row.default_priority,
  };
}

const COLUMNS = 'id, kind, name, topics, created_ms, last_used_ms, revoked_ms, origin, parent_id, description, default_priority';

/**
 * A token and every client (subscribe token) created under it, however deep: revoking a client
 * revokes the clients it created; publish tokens (applications) are never swept along.
 */
const LINEAGE = `WITH RECURSIVE doomed (id) AS (
    SELECT ? UNION SELECT t.id FROM api_tokens t JOIN doomed d ON t.parent_id = d.id WHERE t.kind = 'subscribe')`;

export class ApiTokenRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO api_tokens (hash, kind, name, topics, created_ms, origin, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      byId: db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`),
      byHash: db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE hash = ? AND revoked_ms IS NULL`),
      list: db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE revoked_ms IS NULL ORDER BY id`),
      revoke: db.prepare(`${LINEAGE} UPDATE api_tokens SET revoked_ms = ? WHERE id IN (SELECT id FROM doomed) AND revoked_ms IS NULL RETURNING id`),
      touch: db.prepare('UPDATE api_tokens SET last_used_ms = ? WHERE id = ?'),
      application: db.prepare('UPDATE api_tokens SET topics = ?, description = ?, default_priority = ? WHERE id = ?'),
      update: db.prepare('UPDATE api_tokens SET name = ?, description = ?, default_priority = ? WHERE id = ? AND revoked_ms IS NULL'),
    };
  }

  /** Inside a write; undefined when the parent was revoked meanwhile (the child must not outlive it). */
  insert(
    hash: string,
    kind: 'publish' | 'subscribe',
    name: string,
    topics: string[] | null,
    by: { origin: ApiTokenOrigin; parentId: number | null },
    nowMs: number,
    app?: ApplicationExtra,
  ): ApiTokenRecord | undefined {
    if (by.parentId !== null && this.byId(by.parentId)?.revokedAt !== null) return undefined;
    const id = Number(this.stmts.insert.run(hash, kind, name, topics ? JSON.stringify(topics) : null, nowMs, by.origin, by.parentId).lastInsertRowid);
    // In the same write: an application's topic is named from its id, so no other token has it.
    if (app) this.stmts.application.run(JSON.stringify([app.topicOf(id)]), app.description, app.defaultPriority, id);
    return toRecord(this.stmts.byId.get(id) as TokenRow);
  }

  /** Inside a write: an application's new settings; undefined when unknown or revoked. */
  update(id: number, app: ApplicationFields): ApiTokenRecord | undefined {
    if (this.stmts.update.run(app.name, app.description, app.defaultPriority, id).changes === 0) return undefined;
    return toRecord(this.stmts.byId.get(id) as TokenRow);
  }

  /** A live (unrevoked) token by the hash of its secret. */
  byHash(hash: string): ApiTokenRecord | undefined {
    const row = this.stmts.byHash.get(hash) as TokenRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  byId(id: number): ApiTokenRecord | undefined {
    const row = this.stmts.byId.get(id) as TokenRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Every live token, oldest first. */
  list(): ApiTokenRecord[] {
    return (this.stmts.list.all() as TokenRow[]).map(toRecord);
  }

  /** Inside a write: the ids revoked now (`id` first, then the clients created under it); empty when unknown or already revoked. */
  revoke(id: number, nowMs: number): number[] {
    const target = this.byId(id);
    if (!target || target.revokedAt !== null) return [];
    const ids = (this.stmts.revoke.all(id, nowMs) as { id: number }[]).map((r) => r.id);
    return [id, ...ids.filter((x) => x !== id).sort((a, b) => a - b)];
  }

  /** Inside a write. */
  touch(id: number, nowMs: number): void {
    this.stmts.touch.run(nowMs, id);
  }
}
