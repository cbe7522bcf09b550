import fc from 'fast-check';
import { BinaryHeap, byPriorityThenSeq } from '../../../app/queue/binary-heap';

type Item = { priority: number; seq: number };

type Op = { kind: 'push'; priority: number } | { kind: 'pop' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: 1, max: 5 }) }),
  fc.constant({ kind: 'pop' as const }),
);

describe('byPriorityThenSeq', () => {
  it('puts higher priority first regardless of seq', () => {
    expect(byPriorityThenSeq({ priority: 5, seq: 100 }, { priority: 1, seq: 1 })).toBeLessThan(0);
    expect(byPriorityThenSeq({ priority: 1, seq: 1 }, { priority: 5, seq: 100 })).toBeGreaterThan(0);
  });

  it('is FIFO by seq within a priority', () => {
    expect(byPriorityThenSeq({ priority: 3, seq: 1 }, { priority: 3, seq: 2 })).toBeLessThan(0);
    expect(byPriorityThenSeq({ priority: 3, seq: 2 }, { priority: 3, seq: 1 })).toBeGreaterThan(0);
    expect(byPriorityThenSeq({ priority: 3, seq: 7 }, { priority: 3, seq: 7 })).toBe(0);
  });
});

describe('BinaryHeap', () => {
  it('pops in the same order as a sorted reference array (property)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const heap = new BinaryHeap<Item>(byPriorityThenSeq);
        const reference: Item[] = [];
        let seq = 0;
        for (const op of ops) {
          if (op.kind === 'push') {
            const item = { priority: op.priority, seq: ++seq };
            heap.push(item);
            reference.push(item);
            reference.sort(byPriorityThenSeq);
          } else {
            expect(heap.pop()).toBe(reference.shift());
          }
          expect(heap.size).toBe(reference.length);
          expect(heap.peek()).toBe(reference[0]);
        }
        // Draining what is left must also come out in reference order.
        const drained: Item[] = [];
        for (let item = heap.pop(); item !== undefined; item = heap.pop()) drained.push(item);
        expect(drained).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it('works as a plain numeric min-heap with duplicates (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 200 }), (values) => {
        const heap = new BinaryHeap<number>((a, b) => a - b);
        for (const v of values) heap.push(v);
        const out: number[] = [];
        for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
        expect(out).toEqual([...values].sort((a, b) => a - b));
      }),
    );
  });

  it('returns undefined from pop and peek when empty', () => {
    const heap = new BinaryHeap<Item>(byPriorityThenSeq);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('peek does not remove, pop does', () => {
    const heap = new BinaryHeap<Item>(byPriorityThenSeq);
    heap.push({ priority: 1, seq: 1 });
    heap.push({ priority: 4, seq: 2 });
    expect(heap.peek()).toEqual({ priority: 4, seq: 2 });
    expect(heap.peek()).toEqual({ priority: 4, seq: 2 });
    expect(heap.size).toBe(2);
    expect(heap.pop()).toEqual({ priority: 4, seq: 2 });
    expect(heap.size).toBe(1);
    expect(heap.pop()).toEqual({ priority: 1, seq: 1 });
    expect(heap.pop()).toBeUndefined();
  });

  it('toArray returns an unordered copy that does not alias the heap', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    [5, 3, 8, 1].forEach((v) => heap.push(v));
    const copy = heap.toArray();
    expect([...copy].sort((a, b) => a - b)).toEqual([1, 3, 5, 8]);
    copy.length = 0;
    copy.push(-100);
    expect(heap.size).toBe(4);
    expect(heap.pop()).toBe(1);
  });

  it('clear empties the heap and it stays usable', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    [4, 2, 9].forEach((v) => heap.push(v));
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    heap.push(7);
    heap.push(6);
    expect(heap.pop()).toBe(6);
    expect(heap.pop()).toBe(7);
  });
});
