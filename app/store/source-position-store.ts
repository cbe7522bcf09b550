import type { SourcePositionStore } from '../sources/source';
import type { GroupWriter } from './group-writer';
import type { SourcePositionRepository } from './source-position-repository';

// Where each polling desktop source stopped reading, on SQLite: a save is one write of a group
// commit; a read looks at the main connection (one row) and answers as a promise.

/** What the macOS and Windows sources need (sources/source.ts declares it). */
export class SqliteSourcePositions implements SourcePositionStore {
  constructor(
    private readonly writer: GroupWriter,
    private readonly positions: SourcePositionRepository,
  ) {}

  async position(source: string): Promise<string | null> {
    return this.positions.get(source);
  }

  savePosition(source: string, position: string): Promise<void> {
    return this.writer.run(() => this.positions.put(source, position, Date.now()));
  }
}
