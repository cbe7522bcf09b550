import { BacklogCursor } from '../../../app/delivery/backlog-cursor';

const zero = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };

describe('BacklogCursor', () => {
  it('starts unread everywhere: the first read asks every priority, highest first, from its watermark', () => {
    const cursor = new BacklogCursor({ ...zero, 3: 40 });
    expect(cursor.arms()).toEqual([5, 4, 3, 2, 1].map((priority) => ({ priority, afterSeq: priority === 3 ? 40 : 0 })));
    expect(cursor.highestUnread()).toBe(5);
    expect(cursor.clearAtOrAbove(5)).toBe(false);
  });

  it('a short, fully used read exhausts a priority; a full one leaves it unread and stops the next read there', () => {
    const cursor = new BacklogCursor(zero);
    cursor.read(5, null, true);
    cursor.read(4, 7, true);
    cursor.read(3, 296, false);
    expect(cursor.exhausted(5)).toBe(true);
    expect(cursor.exhausted(4)).toBe(true);
    expect(cursor.exhausted(3)).toBe(false);
    expect(cursor.clearAtOrAbove(4)).toBe(true);
    expect(cursor.arms()).toEqual([{ priority: 3, afterSeq: 296 }]);
    expect(cursor.coverage(3)).toBe(296);
    expect(cursor.coverage(5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a deferred live arrival makes its priority unread (and known to hold more) until a read asked after it completes', () => {
    const cursor = new BacklogCursor(zero);
    for (const p of [5, 4, 3, 2, 1]) cursor.read(p, null, true);
    expect(cursor.highestUnread()).toBeUndefined();
    cursor.defer(4, 500);
    expect(cursor.clearAtOrAbove(4)).toBe(false);
    expect(cursor.clearAtOrAbove(5)).toBe(true);
    expect(cursor.arms()).toEqual([{ priority: 4, afterSeq: 0 }]);
    cursor.defer(4, 501); // arrives while that read is in flight: its snapshot may not hold it
    cursor.read(4, 500, true);
    expect(cursor.exhausted(4)).toBe(false);
    expect(cursor.arms()).toEqual([{ priority: 4, afterSeq: 500 }]);
    cursor.read(4, 501, true);
    expect(cursor.exhausted(4)).toBe(true);
  });

  it('a complete read asked after a deferral covers it even when the deferred row is gone (dismissed meanwhile)', () => {
    const cursor = new BacklogCursor(zero);
    for (const p of [5, 4, 3, 2, 1]) cursor.read(p, null, true);
    cursor.tookLive(3, 27);
    cursor.defer(3, 32);
    expect(cursor.arms()).toEqual([{ priority: 3, afterSeq: 27 }]);
    cursor.read(3, null, true); // n32 was dismissed: the page holds nothing above 27
    expect(cursor.exhausted(3)).toBe(true);
    expect(cursor.highestUnread()).toBeUndefined();
    expect(cursor.clearAtOrAbove(1)).toBe(true);
  });

  it('taking a live one moves the read position; a rewind moves it back, unreads it and stales reads in flight', () => {
    const cursor = new BacklogCursor(zero);
    for (const p of [5, 4, 3, 2, 1]) cursor.read(p, null, true);
    cursor.tookLive(2, 30);
    expect(cursor.coverage(2)).toBe(Number.POSITIVE_INFINITY);
    const generation = cursor.generation;
    cursor.rewind(2, 25);
    expect(cursor.generation).toBe(generation + 1);
    expect(cursor.exhausted(2)).toBe(false);
    expect(cursor.arms()).toEqual([{ priority: 2, afterSeq: 24 }]);
    expect(cursor.coverage(2)).toBe(24);
  });
});
