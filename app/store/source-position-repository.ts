import type { Db } from './database';

// Where each polling desktop source stopped reading (migration 012): one row per source, the
// position kept as the source's own text.

/** Reads and writes `source_positions`; SqliteSourcePositions (source-position-store.ts) is the sources' port over it. */
export class SourcePositionRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      get: db.prepare('SELECT position FROM source_positions WHERE source = ?'),
      put: db.prepare(
        `INSERT INTO source_positions (source, position, updated_ms) VALUES (?, ?, ?)
         ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms`,
      ),
    };
  }

  /** The saved position, or null when the source never read anything. */
  get(source: string): string | null {
    return (this.stmts.get.get(source) as { position: string } | undefined)?.position ?? null;
  }

  /** Inside a write. */
  put(source: string, position: string, nowMs: number): void {
    this.stmts.put.run(source, position, nowMs);
  }
}
