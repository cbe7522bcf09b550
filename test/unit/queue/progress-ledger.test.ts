import fc from 'fast-check';
import { ProgressLedger } from '../../../app/queue/progress-ledger';

// The stored progress (watermark + acked above it) must describe exactly the settled set:
// every seq at or below the watermark settled, every seq above it settled iff listed.

describe('ProgressLedger', () => {
  test('the doc example', () => {
    const ledger = new ProgressLedger(10, [13]);
    ledger.addKnown([11, 12, 14]);
    ledger.settle([12]);
    expect(ledger.snapshot()).toEqual({ watermark: 10, ackedAbove: [12, 13] });
    ledger.settle([11]);
    expect(ledger.snapshot()).toEqual({ watermark: 13, ackedAbove: [] });
    expect(ledger.unsettled).toBe(1);
    ledger.settle([14]);
    expect(ledger.snapshot()).toEqual({ watermark: 14, ackedAbove: [] });
  });

  test('property: the snapshot encodes exactly the settled set', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 80 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 120 })), { maxLength: 200 }),
        (start, knownOffsets, ops) => {
          const known = [...new Set(knownOffsets.map((o) => start + o))];
          const ledger = new ProgressLedger(start);
          const settled = new Set<number>();
          // Known seqs arrive in two chunks, the second possibly out of order (backlog merge).
          const half = Math.floor(known.length / 2);
          ledger.addKnown(known.slice(half).sort((a, b) => a - b));
          ledger.addKnown(known.slice(0, half));
          for (const [snap, pick] of ops) {
            if (known.length === 0) break;
            const seq = known[pick % known.length];
            ledger.settle([seq]);
            settled.add(seq);
            if (snap) {
              const { watermark, ackedAbove } = ledger.snapshot();
              for (const s of known) {
                const stored = s <= watermark || ackedAbove.includes(s);
                expect(stored).toBe(settled.has(s));
              }
              expect(ackedAbove.every((s) => s > watermark)).toBe(true);
            }
          }
          const { watermark } = ledger.snapshot();
          if (known.every((s) => settled.has(s))) expect(watermark).toBe(Math.max(start, ...known));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('the watermark never moves back, and seqs at or below it are ignored', () => {
    const ledger = new ProgressLedger(100);
    ledger.addKnown([50, 101]);
    expect(ledger.isSettled(50)).toBe(true);
    expect(ledger.unsettled).toBe(1);
    ledger.settle([101]);
    expect(ledger.snapshot().watermark).toBe(101);
    ledger.addKnown([99]);
    expect(ledger.snapshot().watermark).toBe(101);
  });
});

describe('ProgressLedger with seqs settled before they are known', () => {
  test('a settled unknown seq is listed above the watermark, never lets it jump, and counts once known', () => {
    const ledger = new ProgressLedger(10);
    ledger.settle([20]);
    expect(ledger.isSettled(20)).toBe(true);
    expect(ledger.isSettled(21)).toBe(false);
    expect(ledger.snapshot()).toEqual({ watermark: 10, ackedAbove: [20] });
    ledger.addKnown([11, 20]);
    expect(ledger.unsettled).toBe(1);
    ledger.settle([11]);
    expect(ledger.snapshot()).toEqual({ watermark: 20, ackedAbove: [] });
  });
});

describe('ProgressLedger with a paged backlog', () => {
  test('the watermark never passes what is not known yet (coveredUpTo)', () => {
    const ledger = new ProgressLedger(10, [13]);
    expect(ledger.snapshot(10)).toEqual({ watermark: 10, ackedAbove: [13] });
    ledger.addKnown([11, 12]);
    ledger.settle([11, 12]);
    expect(ledger.snapshot(12)).toEqual({ watermark: 12, ackedAbove: [13] });
    expect(ledger.snapshot()).toEqual({ watermark: 13, ackedAbove: [] });
    expect(ledger.snapshot(5).watermark).toBe(13); // never moves back
  });
});

describe('ProgressLedger version', () => {
  test('moves with every add and settle, not with a snapshot (an unchanged ledger is not snapshotted again)', () => {
    const ledger = new ProgressLedger(10);
    const v0 = ledger.version;
    ledger.addOne(11);
    const v1 = ledger.version;
    expect(v1).toBeGreaterThan(v0);
    ledger.snapshot();
    expect(ledger.version).toBe(v1);
    ledger.settleOne(11);
    expect(ledger.version).toBeGreaterThan(v1);
    const v2 = ledger.version;
    ledger.addOne(5); // at or below the watermark: nothing changes
    expect(ledger.version).toBe(v2);
  });
});

describe('ProgressLedger memory', () => {
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  test('holds only what is still in flight once a snapshot has consumed the settled prefix', () => {
    const ledger = new ProgressLedger(0);
    ledger.addKnown(range(1, 2000));
    ledger.settle(range(1, 1900));
    expect(ledger.snapshot()).toEqual({ watermark: 1900, ackedAbove: [] });
    expect(ledger.held).toBe(100); // the 1,900 consumed entries are let go, not kept for the next burst
    ledger.settle(range(1901, 2000));
    expect(ledger.snapshot()).toEqual({ watermark: 2000, ackedAbove: [] });
    expect(ledger.held).toBe(0);
    // and it goes on working after letting go
    ledger.addKnown([2001, 2002, 2003]);
    ledger.settle([2002]);
    expect(ledger.snapshot()).toEqual({ watermark: 2000, ackedAbove: [2002] });
    expect(ledger.isSettled(2002)).toBe(true);
    expect(ledger.isSettled(2001)).toBe(false);
    expect(ledger.unsettled).toBe(2);
  });

  test('keeps a short consumed prefix rather than copying on every snapshot', () => {
    const ledger = new ProgressLedger(0);
    ledger.addKnown(range(1, 40));
    ledger.settle(range(1, 10));
    ledger.snapshot();
    expect(ledger.held).toBe(40); // 10 consumed of 40: not worth a copy yet
    expect(ledger.unsettled).toBe(30);
  });
});
