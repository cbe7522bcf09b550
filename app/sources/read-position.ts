import type { SourcePositionStore } from './source';

// Where a polling source (macOS, Windows) stopped reading: the highest row number and the
// highest arrival time it has handled, in the database file it read them from. A row is new
// when EITHER is above the position. The row number alone is not enough: both databases use a
// plain INTEGER PRIMARY KEY (no AUTOINCREMENT), so SQLite gives the next row the number of a
// deleted newest row; the time alone is not enough when the clock is set back. A row already
// handled is below or at both, so it is never new again.

/** Arrival time in the database's own unit: FILETIME ticks (bigint) or Apple seconds (number). */
export type Instant = number | bigint;

/** How far a source has read: the highest row and the highest time handled. */
export interface Position<T extends Instant> {
  /** Highest row number (rowid) handled. */
  row: number;
  /** Highest arrival time handled. */
  time: T;
}

/** Whether a row at (row, time) was not handled yet. A null time (none recorded) counts as not newer. */
export function isNew<T extends Instant>(position: Position<T>, row: number, time: T | null): boolean {
  return row > position.row || (time !== null && time > position.time);
}

/** The position once the row at (row, time) has been handled. */
export function advanced<T extends Instant>(position: Position<T>, row: number, time: T | null): Position<T> {
  return { row: Math.max(position.row, row), time: time !== null && time > position.time ? time : position.time };
}

/** The stored text: the file it belongs to, the row, the time as decimal text (FILETIME does not fit a double). */
export function encodePosition<T extends Instant>(from: string, position: Position<T>): string {
  return JSON.stringify({ from, row: position.row, time: String(position.time) });
}

/** The stored position if it belongs to `from` and reads cleanly; null means start afresh. */
export function decodePosition<T extends Instant>(text: string | null, from: string, parseTime: (text: string) => T): Position<T> | null {
  if (!text) return null;
  try {
    const raw = JSON.parse(text) as { from?: unknown; row?: unknown; time?: unknown };
    if (raw.from !== from || !Number.isSafeInteger(raw.row) || typeof raw.time !== 'string') return null;
    const time = parseTime(raw.time);
    if (typeof time === 'number' && !Number.isFinite(time)) return null;
    return { row: raw.row as number, time };
  } catch {
    return null;
  }
}

/**
 * A source's position, loaded once from the store and saved whenever it moves.
 *
 *   const kept = new KeptPosition('windows', file, store, BigInt);
 *   const start = (await kept.load()) ?? endOfTable;   // null: first attach, history not replayed
 *   await kept.save(advanced(start, row.order, row.arrival));
 */
export class KeptPosition<T extends Instant> {
  private current: Position<T> | null = null;
  private loaded = false;
  private saved: string | null = null;

  constructor(
    private readonly source: string,
    private readonly from: string,
    private readonly store: SourcePositionStore,
    private readonly parseTime: (text: string) => T,
  ) {}

  /** The position in memory, else the stored one for this file; null before anything was read. */
  async load(): Promise<Position<T> | null> {
    if (!this.loaded) {
      this.saved = await this.store.position(this.source);
      this.current = decodePosition(this.saved, this.from, this.parseTime);
      this.loaded = true;
    }
    return this.current;
  }

  /** Keeps the position in memory and, when it moved, in the store. */
  async save(position: Position<T>): Promise<void> {
    this.current = position;
    const text = encodePosition(this.from, position);
    if (text === this.saved) return;
    await this.store.savePosition(this.source, text);
    this.saved = text;
  }
}
