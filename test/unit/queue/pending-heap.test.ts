import fc from 'fast-check';
import { byPriorityThenSeq } from '../../../app/queue/binary-heap';
import { PendingHeap } from '../../../app/queue/pending-heap';

type Item = { seq: number; priority: number };

describe('PendingHeap', () => {
  it('orders by priority desc then seq asc and refuses a seq already waiting', () => {
    const heap = new PendingHeap<Item>();
    expect(heap.push({ seq: 1, priority: 1 })).toBe(true);
    expect(heap.push({ seq: 2, priority: 3 })).toBe(true);
    expect(heap.push({ seq: 3, priority: 3 })).toBe(true);
    expect(heap.push({ seq: 2, priority: 5 })).toBe(false);
    expect(heap.size).toBe(3);
    expect(heap.depthByPriority()).toEqual({ 1: 1, 3: 2 });
    expect([heap.pop()?.seq, heap.pop()?.seq, heap.pop()?.seq, heap.pop()]).toEqual([2, 3, 1, undefined]);
  });

  it('a seq removed and pushed again comes out once, with its new priority', () => {
    const heap = new PendingHeap<Item>();
    heap.push({ seq: 1, priority: 5 });
    heap.push({ seq: 2, priority: 1 });
    heap.remove(1);
    heap.push({ seq: 1, priority: 0 }); // the stale { seq: 1, priority: 5 } slot is still in the heap
    expect(heap.size).toBe(2);
    expect(heap.pop()).toEqual({ seq: 2, priority: 1 });
    expect(heap.pop()).toEqual({ seq: 1, priority: 0 });
    expect(heap.pop()).toBeUndefined();
  });

  it('remove hides the item from peek/pop/size and allows pushing the seq again', () => {
    const heap = new PendingHeap<Item>();
    heap.push({ seq: 1, priority: 5 });
    heap.push({ seq: 2, priority: 1 });
    expect(heap.remove(1)).toBe(true);
    expect(heap.remove(1)).toBe(false);
    expect(heap.has(1)).toBe(false);
    expect(heap.size).toBe(1);
    expect(heap.peek()?.seq).toBe(2);
    heap.push({ seq: 1, priority: 0 });
    expect(heap.pop()?.seq).toBe(2);
    expect(heap.pop()).toEqual({ seq: 1, priority: 0 });
    expect(heap.pop()).toBeUndefined();
  });

  it('matches a reference model under random push/pop/remove, including compaction (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const heap = new PendingHeap<Item>();
        let model: Item[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const item = { seq: ++seq, priority: o.priority };
            heap.push(item);
            model.push(item);
          } else if (o.kind === 'pop') {
            model.sort(byPriorityThenSeq);
            expect(heap.pop()).toBe(model.shift());
          } else if (model.length > 0) {
            const victim = model[o.pick % model.length];
            expect(heap.remove(victim.seq)).toBe(true);
            model = model.filter((m) => m !== victim);
          }
          expect(heap.size).toBe(model.length);
        }
        model.sort(byPriorityThenSeq);
        expect(heap.peek()).toBe(model[0]);
      }),
      { numRuns: 200 },
    );
  });

  it('survives many removals (compaction) without losing live items', () => {
    const heap = new PendingHeap<Item>();
    for (let seq = 1; seq <= 500; seq++) heap.push({ seq, priority: seq % 5 });
    for (let seq = 1; seq <= 500; seq++) if (seq % 10 !== 0) heap.remove(seq);
    expect(heap.size).toBe(50);
    const out: number[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item.seq);
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => (i + 1) * 10));
  });
});

describe('PendingHeap.removeWhere', () => {
  it('removes and returns what the predicate picks; the rest keeps its order', () => {
    const heap = new PendingHeap<Item>();
    for (const [seq, priority] of [[1, 1], [2, 5], [3, 2], [4, 5]]) heap.push({ seq, priority });
    expect(heap.removeWhere((i) => i.priority < 5).map((i) => i.seq).sort()).toEqual([1, 3]);
    expect([heap.pop()?.seq, heap.pop()?.seq, heap.pop()]).toEqual([2, 4, undefined]);
  });
});
