import type { NotificationInput } from '../../../app/domain/notification';
import { Scheduler, type ScheduledEntry, type ScheduleStore } from '../../../app/schedule/scheduler';
import { ManualTimers } from '../queue/manual-timers';

// The scheduler with injected timers and a store in memory: one timer for the earliest due,
// release in due order through the given hand-off, cancel, what fell due while down goes at
// start, and a failed hand-off is retried (the id makes a second append a duplicate upstream).

class MemoryScheduleStore implements ScheduleStore {
  readonly rows = new Map<string, ScheduledEntry>();
  async add(entry: ScheduledEntry): Promise<void> {
    if (!this.rows.has(entry.id)) this.rows.set(entry.id, entry);
  }
  async due(nowMs: number, limit: number): Promise<ScheduledEntry[]> {
    return this.sorted().filter((e) => e.dueMs <= nowMs).slice(0, limit);
  }
  async nextDueMs(): Promise<number | null> {
    return this.sorted()[0]?.dueMs ?? null;
  }
  async remove(id: string): Promise<boolean> {
    return this.rows.delete(id);
  }
  async removeByToken(tokenId: number): Promise<number> {
    const ids = [...this.rows.values()].filter((e) => e.input.tokenId === tokenId).map((e) => e.id);
    for (const id of ids) this.rows.delete(id);
    return ids.length;
  }
  async list(limit: number): Promise<ScheduledEntry[]> {
    return this.sorted().slice(0, limit);
  }
  private sorted(): ScheduledEntry[] {
    return [...this.rows.values()].sort((a, b) => a.dueMs - b.dueMs || a.id.localeCompare(b.id));
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function input(title: string): NotificationInput {
  return { title, body: '', app: 'test', priority: 3, tags: [], url: null, topic: 't', source: 'ntfy' };
}

function world(failFirst = 0) {
  const store = new MemoryScheduleStore();
  const timers = new ManualTimers(1_000_000);
  const released: { id: string; title: string; at: number }[] = [];
  const errors: unknown[] = [];
  let failures = failFirst;
  const scheduler = new Scheduler(
    store,
    async (n) => {
      if (failures-- > 0) throw new Error('store busy');
      released.push({ id: n.id!, title: n.title, at: timers.now() });
    },
    timers,
    { retryMs: 1000, page: 2, onError: (e) => errors.push(e) },
  );
  const run = async (ms: number) => {
    for (let i = 0; i < ms / 100; i++) {
      timers.advance(100);
      await settle();
    }
  };
  return { store, timers, released, errors, scheduler, run };
}

describe('Scheduler', () => {
  it('releases each at its due time, earliest first, with its id, and then forgets it', async () => {
    const w = world();
    const t0 = w.timers.now();
    await w.scheduler.schedule({ ...input('late'), deliverAt: t0 + 5000 }, 'b', t0 + 5000);
    await w.scheduler.schedule(input('early'), 'a', t0 + 2000);
    await w.run(1900);
    expect(w.released).toEqual([]);
    await w.run(200);
    expect(w.released).toEqual([{ id: 'a', title: 'early', at: t0 + 2000 }]);
    await w.run(3000);
    expect(w.released.map((r) => [r.id, r.at])).toEqual([['a', t0 + 2000], ['b', t0 + 5000]]);
    expect(w.store.rows.size).toBe(0);
    expect(w.timers.pendingCount).toBe(0);
  });

  it('what is stored is the notification without its due time (released as an ordinary one)', async () => {
    const w = world();
    await w.scheduler.schedule({ ...input('x'), deliverAt: w.timers.now() + 10 }, 'x', w.timers.now() + 10);
    expect(w.store.rows.get('x')!.input.deliverAt).toBeUndefined();
  });

  it('a cancelled one is never released', async () => {
    const w = world();
    const t0 = w.timers.now();
    await w.scheduler.schedule(input('cancel'), 'c', t0 + 1000);
    await w.scheduler.schedule(input('keep'), 'k', t0 + 1500);
    expect(await w.scheduler.cancel('c')).toBe(true);
    expect(await w.scheduler.cancel('c')).toBe(false);
    await w.run(2000);
    expect(w.released.map((r) => r.id)).toEqual(['k']);
  });

  it('cancel during a release pass: the one being handed on is too late (false); a later one of the same page is skipped (true) and never sent', async () => {
    const store = new MemoryScheduleStore();
    const timers = new ManualTimers(0);
    const released: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const scheduler = new Scheduler(store, async (n) => {
      if (n.id === 'first') await gate;
      released.push(n.id!);
    }, timers, { retryMs: 1000, page: 10 });
    await scheduler.schedule(input('first'), 'first', 100);
    await scheduler.schedule(input('second'), 'second', 100);
    timers.advance(100);
    await settle();
    expect(await scheduler.cancel('first')).toBe(false);
    expect(await scheduler.cancel('second')).toBe(true);
    open();
    await settle();
    timers.advance(1000);
    await settle();
    expect(released).toEqual(['first']);
    expect(store.rows.size).toBe(0);
  });

  it('at start, what fell due while down goes at once (many: a page at a time), the rest when due', async () => {
    const w = world();
    const t0 = w.timers.now();
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) await w.store.add({ id, dueMs: t0 - 60_000, createdMs: t0 - 120_000, input: input(id) });
    await w.store.add({ id: 'future', dueMs: t0 + 3000, createdMs: t0, input: input('future') });
    await w.scheduler.start();
    await w.run(100);
    expect(w.released.map((r) => r.id)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    await w.run(3000);
    expect(w.released.map((r) => r.id)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'future']);
  });

  it('a failed hand-off is reported and retried; the entry stays until handed on', async () => {
    const w = world(2);
    await w.scheduler.schedule(input('retry'), 'r', w.timers.now() + 100);
    await w.run(200);
    expect(w.released).toEqual([]);
    expect(w.errors).toHaveLength(1);
    expect(w.store.rows.has('r')).toBe(true);
    await w.run(2100);
    expect(w.errors).toHaveLength(2);
    expect(w.released.map((r) => r.id)).toEqual(['r']);
    expect(w.store.rows.size).toBe(0);
  });

  it('a revoked API token\'s scheduled notifications are never released; others are', async () => {
    const w = world();
    const t0 = w.timers.now();
    await w.scheduler.schedule({ ...input('leaked'), tokenId: 7 }, 'l', t0 + 1000);
    await w.scheduler.schedule({ ...input('other'), tokenId: 8 }, 'o', t0 + 1000);
    w.scheduler.tokenRevoked(7);
    await w.run(2000);
    expect(w.released.map((r) => r.id)).toEqual(['o']);
  });

  it('stop: nothing more is released', async () => {
    const w = world();
    await w.scheduler.schedule(input('never'), 'n', w.timers.now() + 1000);
    await w.scheduler.stop();
    await w.run(2000);
    expect(w.released).toEqual([]);
    expect(w.timers.pendingCount).toBe(0);
  });
});
