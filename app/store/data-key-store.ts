import type { WrappedKey } from '../crypto/field-cipher';
import type { Db } from './database';
import type { GroupWriter } from './group-writer';

// The wrapped data keys of field encryption on SQLite: read when the daemon opens its key ring,
// the first one stored at first start (key rotation stores the others, key-rotation.ts).

/** The data keys the field cipher loads. */
export class SqliteDataKeys {
  constructor(
    private readonly db: Db,
    private readonly writer: GroupWriter,
  ) {}

  /** Every stored data key, oldest first (the newest is current unless a rotation says otherwise). */
  async list(): Promise<WrappedKey[]> {
    return this.db.prepare('SELECT id, wrapped FROM data_keys ORDER BY created_ms, rowid').all() as WrappedKey[];
  }

  /** Stores the first data key (first start). */
  insert(key: WrappedKey): Promise<void> {
    return this.writer.run((db) => void db.prepare('INSERT INTO data_keys (id, wrapped, created_ms) VALUES (?, ?, ?)').run(key.id, key.wrapped, Date.now()));
  }
}
