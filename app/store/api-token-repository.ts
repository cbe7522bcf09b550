import type { Db } from './database';

// ntfy / Gotify API tokens: only their SHA-256 hashes are stored; reads are tiny and indexed,
// so they run on the main connection.

/** A token as the rest of Beep sees it (never the secret). */
export interface ApiTokenRecord {
  id: number;
  kind: 'publish' | 'subscribe';
  name: string;
  topics: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface TokenRow {
  id: number;
  kind: 'publish' | 'subscribe';
  name: string;
  topics: string | null;
  created_ms: number;
  last_used_ms: number | null;
  revoked_ms: number | null;
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
  };
}

const COLUMNS = 'id, kind, name, topics, created_ms, last_used_ms, revoked_ms';

export class ApiTokenRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO api_tokens (hash, kind, name, topics, created_ms) VALUES (?, ?, ?, ?, ?)'),
      byId: db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`),
      byHash: db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE hash = ? AND revoked_ms IS NULL`),
      list: db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE revoked_ms IS NULL ORDER BY id`),
      revoke: db.prepare('UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL'),
      touch: db.prepare('UPDATE api_tokens SET last_used_ms = ? WHERE id = ?'),
    };
  }

  /** Inside a write. */
  insert(hash: string, kind: 'publish' | 'subscribe', name: string, topics: string[] | null, nowMs: number): ApiTokenRecord {
    const id = Number(this.stmts.insert.run(hash, kind, name, topics ? JSON.stringify(topics) : null, nowMs).lastInsertRowid);
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

  /** Inside a write: false when unknown or already revoked. */
  revoke(id: number, nowMs: number): boolean {
    return this.stmts.revoke.run(nowMs, id).changes > 0;
  }

  /** Inside a write. */
  touch(id: number, nowMs: number): void {
    this.stmts.touch.run(nowMs, id);
  }
}
