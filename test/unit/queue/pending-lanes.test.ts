import fc from 'fast-check';
import { byPriorityThenSeq } from '../../../app/queue/binary-heap';
import { PendingLanes } from '../../../app/queue/pending-lanes';

type Item = { seq: number; priority: number };

describe('PendingLanes', () => {
  it('orders by priority desc then seq asc, and counts per priority', () => {
    const lanes = new PendingLanes<Item>();
    lanes.push({ seq: 1, priority: 1 });
    lanes.push({ seq: 2, priority: 3 });
    lanes.push({ seq: 3, priority: 3 });
    expect(lanes.size).toBe(3);
    expect(lanes.has(2)).toBe(true);
    expect(lanes.depthByPriority()).toEqual({ 1: 1, 3: 2 });
    expect([lanes.pop()?.seq, lanes.pop()?.seq, lanes.pop()?.seq, lanes.pop()]).toEqual([2, 3, 1, undefined]);
  });

  it('a resend (lower seq than what waits) goes back in seq order', () => {
    const lanes = new PendingLanes<Item>();
    for (const seq of [5, 6, 9]) lanes.push({ seq, priority: 2 });
    lanes.push({ seq: 7, priority: 2 });
    lanes.push({ seq: 1, priority: 2 });
    const out: number[] = [];
    for (let item = lanes.pop(); item !== undefined; item = lanes.pop()) out.push(item.seq);
    expect(out).toEqual([1, 5, 6, 7, 9]);
  });

  it('remove hides the item from peek/pop/size and allows pushing the seq again', () => {
    const lanes = new PendingLanes<Item>();
    lanes.push({ seq: 1, priority: 5 });
    lanes.push({ seq: 2, priority: 1 });
    expect(lanes.remove(1)).toBe(true);
    expect(lanes.remove(1)).toBe(false);
    expect(lanes.has(1)).toBe(false);
    expect(lanes.size).toBe(1);
    expect(lanes.peek()?.seq).toBe(2);
    lanes.push({ seq: 1, priority: 0 });
    expect(lanes.pop()?.seq).toBe(2);
    expect(lanes.pop()).toEqual({ seq: 1, priority: 0 });
    expect(lanes.pop()).toBeUndefined();
  });

  it('matches a reference model under random push (in and out of order)/pop/remove (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: 1, max: 5 }), back: fc.nat({ max: 3 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const lanes = new PendingLanes<Item>();
        let model: Item[] = [];
        let seq = 1000;
        let low = 1000;
        for (const o of ops) {
          if (o.kind === 'push') {
            // Mostly appends; sometimes an older seq (a resend) below what waits.
            const item = o.back === 0 ? { seq: --low, priority: o.priority } : { seq: ++seq, priority: o.priority };
            lanes.push(item);
            model.push(item);
          } else if (o.kind === 'pop') {
            model.sort(byPriorityThenSeq);
            expect(lanes.pop()).toBe(model.shift());
          } else if (model.length > 0) {
            const victim = model[o.pick % model.length];
            expect(lanes.remove(victim.seq)).toBe(true);
            model = model.filter((m) => m !== victim);
          }
          expect(lanes.size).toBe(model.length);
        }
        model.sort(byPriorityThenSeq);
        expect(lanes.peek()).toBe(model[0]);
      }),
      { numRuns: 200 },
    );
  });

  it('stays right past its compaction of consumed slots', () => {
    const lanes = new PendingLanes<Item>();
    const out: number[] = [];
    for (let seq = 1; seq <= 5000; seq++) {
      lanes.push({ seq, priority: 3 });
      if (seq % 2 === 0) out.push(lanes.pop()!.seq);
    }
    for (let item = lanes.pop(); item !== undefined; item = lanes.pop()) out.push(item.seq);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });
});

describe('PendingLanes.removeWhere', () => {
  it('removes and returns what the predicate picks; the rest keeps its order', () => {
    const lanes = new PendingLanes<Item>();
    for (const [seq, priority] of [[1, 1], [2, 5], [3, 2], [4, 5]]) lanes.push({ seq, priority });
    expect(lanes.removeWhere((i) => i.priority < 5).map((i) => i.seq).sort()).toEqual([1, 3]);
    expect(lanes.size).toBe(2);
    expect([lanes.pop()?.seq, lanes.pop()?.seq, lanes.pop()]).toEqual([2, 4, undefined]);
  });
});
