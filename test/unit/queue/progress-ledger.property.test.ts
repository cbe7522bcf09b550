import fc from 'fast-check';
import { ProgressLedger } from '../../../app/queue/progress-ledger';

// The ledger against a plain model of what it promises: the watermark rises to just below the
// first known seq not settled (never past what is covered, never down), and ackedAbove lists
// every settled seq above it, sorted. Its shortcuts (the live-arrival fast path, the count of
// settled entries that lets a snapshot skip its scan, compaction) must not change either.

type Op = { kind: 'add'; seq: number } | { kind: 'settle'; seq: number } | { kind: 'snapshot'; covered: number | null };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), seq: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('settle' as const), seq: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('snapshot' as const), covered: fc.option(fc.integer({ min: 0, max: 35 }), { nil: null }) }),
);

describe('ProgressLedger (property)', () => {
  it('matches the model after any mix of adds, settles and snapshots', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.array(op, { maxLength: 300 }), (start, ops) => {
        const ledger = new ProgressLedger(start);
        const known = new Set<number>();
        const settled = new Set<number>();
        let watermark = start;
        let highest = start;
        for (const o of ops) {
          if (o.kind === 'add') {
            ledger.addOne(o.seq);
            if (o.seq > watermark) {
              known.add(o.seq);
              highest = Math.max(highest, o.seq);
            }
          } else if (o.kind === 'settle') {
            ledger.settleOne(o.seq);
            if (o.seq > watermark) settled.add(o.seq);
          } else {
            const covered = o.covered ?? Number.POSITIVE_INFINITY;
            const open = [...known].filter((s) => s > watermark && !settled.has(s));
            const next = Math.min(open.length > 0 ? Math.min(...open) - 1 : highest, covered);
            watermark = Math.max(watermark, next);
            const expected = [...settled].filter((s) => s > watermark).sort((a, b) => a - b);
            expect(ledger.snapshot(o.covered ?? undefined)).toEqual({ watermark, ackedAbove: expected });
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
