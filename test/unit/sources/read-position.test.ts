import Database from 'better-sqlite3';
import fc from 'fast-check';
import { advanced, decodePosition, encodePosition, isNew, KeptPosition, type Position } from '../../../app/sources/read-position';

// The read position of the polling sources: (highest row, highest time), a row new when either
// is above it. Checked against real SQLite rowids (INTEGER PRIMARY KEY without AUTOINCREMENT,
// as both desktop databases have it: a deleted newest row's number is handed out again), with
// rows inserted and deleted between reads and the position surviving "restarts" as text.

type Op = { kind: 'insert'; clockBack: boolean } | { kind: 'deleteNewest' } | { kind: 'deleteOldest' } | { kind: 'read' } | { kind: 'restart' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), clockBack: fc.boolean() }),
  fc.constant({ kind: 'deleteNewest' as const }),
  fc.constant({ kind: 'deleteOldest' as const }),
  fc.constant({ kind: 'read' as const }),
  fc.constant({ kind: 'restart' as const }),
);

describe('read position', () => {
  test('every row present at a read is handled exactly once, across rowid reuse, a clock set back (not both at once: the blind spot) and restarts', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const db = new Database(':memory:');
        db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, time INTEGER, label TEXT)');
        let clock = 1_000n;
        let stored = encodePosition('db', { row: 0, time: 0n });
        let position: Position<bigint> = decodePosition(stored, 'db', BigInt)!;
        const handled = new Map<string, number>();
        const unhandled = new Set<string>();
        let label = 0;
        /** One poll, as the sources run it: rows past the position, in row order. */
        const read = () => {
          const rows = db.prepare('SELECT n, time, label FROM t WHERE n > ? OR time > ? ORDER BY n').safeIntegers(true).all(BigInt(position.row), position.time) as {
            n: bigint;
            time: bigint;
            label: string;
          }[];
          for (const row of rows) {
            expect(isNew(position, Number(row.n), row.time)).toBe(true);
            handled.set(row.label, (handled.get(row.label) ?? 0) + 1);
            unhandled.delete(row.label);
            position = advanced(position, Number(row.n), row.time);
          }
          stored = encodePosition('db', position);
        };
        for (const step of ops) {
          if (step.kind === 'insert') {
            const max = (db.prepare('SELECT COALESCE(MAX(n), 0) AS n FROM t').get() as { n: number }).n;
            const next = step.clockBack ? clock - 500n : clock + 1n;
            // The one blind spot (README): SQLite reusing a row number while the clock is behind the newest time read.
            if (max < position.row && next <= position.time) continue;
            clock = next;
            const name = `r${label++}`;
            db.prepare('INSERT INTO t (time, label) VALUES (?, ?)').run(clock, name);
            unhandled.add(name);
          } else if (step.kind === 'deleteNewest' || step.kind === 'deleteOldest') {
            const row = db.prepare(`SELECT n, label FROM t ORDER BY n ${step.kind === 'deleteNewest' ? 'DESC' : 'ASC'} LIMIT 1`).get() as { n: number; label: string } | undefined;
            if (row) {
              db.prepare('DELETE FROM t WHERE n = ?').run(row.n);
              unhandled.delete(row.label); // gone before it was read: nobody could have seen it
            }
          } else if (step.kind === 'restart') {
            position = decodePosition(stored, 'db', BigInt)!;
          } else {
            read();
          }
        }
        // A last read picks up everything still unread.
        read();
        db.close();
        expect([...handled.values()].every((n) => n === 1)).toBe(true);
        expect([...unhandled]).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  test('a stored position belongs to its file; a corrupt one starts afresh', () => {
    const text = encodePosition('C:\\Users\\a\\wpndatabase.db', { row: 7, time: 133_000_000_000_000_001n });
    expect(decodePosition(text, 'C:\\Users\\a\\wpndatabase.db', BigInt)).toEqual({ row: 7, time: 133_000_000_000_000_001n });
    expect(decodePosition(text, '/tmp/copy.db', BigInt)).toBeNull();
    expect(decodePosition('{"from":"x","row":"7","time":"1"}', 'x', BigInt)).toBeNull();
    expect(decodePosition('not json', 'x', BigInt)).toBeNull();
    expect(decodePosition('{"from":"x","row":1,"time":"1e999"}', 'x', Number)).toBeNull();
  });

  test('KeptPosition loads once and writes only when the position moved', async () => {
    const writes: string[] = [];
    const store = { position: async () => encodePosition('f', { row: 3, time: 9 }), savePosition: async (_s: string, p: string) => void writes.push(p) };
    const kept = new KeptPosition('macos', 'f', store, Number);
    expect(await kept.load()).toEqual({ row: 3, time: 9 });
    await kept.save({ row: 3, time: 9 });
    expect(writes).toEqual([]);
    await kept.save({ row: 4, time: 10 });
    expect(writes).toEqual([encodePosition('f', { row: 4, time: 10 })]);
    expect(await kept.load()).toEqual({ row: 4, time: 10 });
  });
});
