import { Delivery } from '../../../app/delivery/delivery';
import { LocalRelayBus } from '../../../app/delivery/relay-bus';
import type { Priority } from '../../../app/domain/priority';
import { ManualTimers } from '../queue/manual-timers';
import { FakeConnection, FakeStore, gate, settle, stored } from './fakes';

// Delivery with injected timers and a store in memory: the backlog and what arrives while it
// loads, replacements, topic filters, progress saves, revocation and dismissals.

const QUEUE = { batchWindowMs: 25, maxBatch: 64, maxInFlight: 4, redeliverAfterMs: 1000, fanOutSlice: 64 };

function world(options: Partial<typeof QUEUE> = {}) {
  const store = new FakeStore();
  const timers = new ManualTimers();
  const deferred: (() => void)[] = [];
  const delivery = new Delivery(store, { ...QUEUE, ...options }, { timers, defer: (fn) => deferred.push(fn) }, {});
  const bus = new LocalRelayBus((e) => {
    throw e;
  });
  bus.subscribe(delivery);
  /** Runs the next yielded fan-out slice. */
  const nextSlice = () => deferred.shift()?.();
  return { store, timers, delivery, bus, deferred, nextSlice };
}

/** Commits a notification to the fake store and publishes it, as ingest does. */
function commit(w: ReturnType<typeof world>, seq: number, fields: Parameters<typeof stored>[1] = {}) {
  const n = w.store.add(stored(seq, fields));
  void w.bus.accepted(n);
  return n;
}

describe('Delivery: natural batching and fan-out', () => {
  it('a lone notification to an idle phone leaves at once in its own frame; no timer waits but its redelivery', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    commit(w, 1);
    expect(phone.ids).toEqual([['n1']]);
    expect(w.timers.now()).toBe(0);
    expect(w.timers.pendingCount).toBe(1);
    expect(w.timers.nextDue()).toBe(QUEUE.redeliverAfterMs);
  });

  it('while a frame is unacknowledged what arrives gathers, highest priority first, and leaves with the ack', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    commit(w, 1);
    commit(w, 2);
    commit(w, 3, { priority: 4 as Priority });
    expect(phone.ids).toEqual([['n1']]);
    phone.ack(0);
    expect(phone.ids).toEqual([['n1'], ['n3', 'n2']]);
    expect(w.timers.now()).toBe(0);
  });

  it('a new urgent notification overtakes a backlog still being sent', async () => {
    const w = world({ maxBatch: 2, maxInFlight: 1 });
    w.store.addDevice('d1');
    for (let seq = 1; seq <= 6; seq++) commit(w, seq);
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    expect(phone.ids).toEqual([['n1', 'n2']]);
    commit(w, 7, { priority: 5 as Priority });
    phone.ack(0);
    expect(phone.ids).toEqual([['n1', 'n2'], ['n7', 'n3']]);
    phone.ack(1);
    phone.ack(2);
    expect(phone.ids.slice(2)).toEqual([['n4', 'n5'], ['n6']]);
  });

  it('encodes once: every device is handed the same serialised item, never one built for it', async () => {
    const w = world();
    const phones = ['a', 'b', 'c'].map((id) => (w.store.addDevice(id), new FakeConnection(id)));
    for (const phone of phones) await w.delivery.attach(phone);
    const stringify = jest.spyOn(JSON, 'stringify');
    commit(w, 1, { title: 'once' });
    const calls = stringify.mock.calls.length;
    stringify.mockRestore();
    expect(calls).toBe(1);
    const [first, ...rest] = phones.map((p) => p.encoded[0][0]);
    for (const other of rest) expect(other.json).toBe(first.json);
    expect(JSON.parse(first.json)).toMatchObject({ id: 'n1', title: 'once' });
  });

  it('a fan-out serves a slice of devices per turn and yields; every device still gets every notification in order', async () => {
    const w = world({ fanOutSlice: 2 });
    const phones = ['a', 'b', 'c', 'd', 'e'].map((id) => (w.store.addDevice(id), new FakeConnection(id)));
    for (const phone of phones) await w.delivery.attach(phone);
    commit(w, 1);
    commit(w, 2); // queued behind the first fan-out
    expect(phones.map((p) => p.frames.length)).toEqual([1, 1, 0, 0, 0]);
    expect(w.deferred).toHaveLength(1);
    w.nextSlice();
    expect(phones.map((p) => p.frames.length)).toEqual([1, 1, 1, 1, 0]);
    while (w.deferred.length > 0) w.nextSlice();
    for (const phone of phones) phone.ack(0);
    expect(phones.map((p) => p.ids)).toEqual(phones.map(() => [['n1'], ['n2']]));
  });
});

describe('Delivery', () => {
  it('sends the backlog first, highest priority first, then what arrives', async () => {
    const w = world();
    w.store.addDevice('d1');
    commit(w, 1, { priority: 1 as Priority });
    commit(w, 2, { priority: 5 as Priority });
    commit(w, 3);
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    expect(phone.ids).toEqual([['n2', 'n3', 'n1']]);
    commit(w, 4);
    w.timers.advance(25);
    expect(phone.ids[1]).toEqual(['n4']);
  });

  it('merges what arrives while the backlog loads, once each, in order', async () => {
    const w = world();
    w.store.addDevice('d1');
    commit(w, 1);
    w.store.backlogGate = gate();
    const phone = new FakeConnection('d1');
    const attached = w.delivery.attach(phone);
    await settle();
    commit(w, 2); // committed after the backlog snapshot
    commit(w, 3, { priority: 5 as Priority });
    expect(phone.frames).toHaveLength(0);
    w.store.backlogGate.open();
    await attached;
    expect(phone.ids).toEqual([['n3', 'n1', 'n2']]);
    w.timers.advance(100);
    expect(phone.frames).toHaveLength(1);
  });

  it('a replacement settles what it replaces: the old id is not sent again and owes no ack', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    commit(w, 1, { id: 'old' });
    w.timers.advance(25);
    expect(phone.ids).toEqual([['old']]);
    w.store.dismiss('old');
    commit(w, 2, { id: 'new', replaces: 'old' });
    w.timers.advance(25);
    phone.ack(1);
    w.timers.advance(5000); // the unacked `old` is never redelivered
    expect(phone.ids).toEqual([['old'], ['new']]);
    await settle();
    expect(w.store.progressRows.get('d1')!.watermark).toBe(2);
  });

  it('a device with topics gets those and untopiced ones; the rest is settled at once', async () => {
    const w = world();
    w.store.addDevice('d1', 0, ['alerts']);
    commit(w, 1, { topic: 'chat' });
    commit(w, 2, { topic: 'alerts' });
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    commit(w, 3);
    commit(w, 4, { topic: 'chat' });
    w.timers.advance(25);
    expect(phone.ids).toEqual([['n2'], ['n3']]);
    phone.ack(0);
    phone.ack(1);
    await settle();
    expect(w.store.progressRows.get('d1')!.watermark).toBe(4);
    w.delivery.setTopics('d1', null);
    commit(w, 5, { topic: 'chat' });
    w.timers.advance(25);
    expect(phone.ids[2]).toEqual(['n5']);
  });

  it('acks are saved coalesced, and the last save holds every ack', async () => {
    const w = world();
    w.store.addDevice('d1');
    for (let seq = 1; seq <= 8; seq++) commit(w, seq);
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    expect(phone.frames).toHaveLength(1);
    for (const id of phone.frames[0].items.map((i) => i.id)) phone.ack(0, [id]);
    await settle();
    expect(w.store.saves.length).toBeLessThan(8);
    expect(w.store.progressRows.get('d1')).toMatchObject({ watermark: 8, ackedAbove: [] });
  });

  it('a revoked device is told and cut off; nothing more is sent to it', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    expect(w.delivery.isOnline('d1')).toBe(true);
    await w.bus.deviceRevoked('d1');
    expect(phone.revoked).toBe(true);
    expect(w.delivery.isOnline('d1')).toBe(false);
    commit(w, 1);
    w.timers.advance(100);
    expect(phone.frames).toHaveLength(0);
  });

  it('a device with no progress (revoked before it connected) is revoked at attach', async () => {
    const w = world();
    const phone = new FakeConnection('ghost');
    await w.delivery.attach(phone);
    expect(phone.revoked).toBe(true);
    expect(w.delivery.isOnline('ghost')).toBe(false);
  });

  it('a dismissal reaches the other devices, settles it everywhere, and moves their cursors', async () => {
    const w = world();
    w.store.addDevice('a');
    w.store.addDevice('b');
    const [a, b] = [new FakeConnection('a'), new FakeConnection('b')];
    await w.delivery.attach(a);
    await w.delivery.attach(b);
    commit(w, 1);
    w.timers.advance(25);
    const { seq, dismissalSeq } = w.store.dismiss('n1');
    await w.bus.dismissed({ id: 'n1', seq, dismissalSeq, byDevice: 'a' });
    expect(a.dismissed).toEqual([]);
    expect(b.dismissed).toEqual([['n1']]);
    w.timers.advance(5000); // neither device gets it again
    expect([a.frames.length, b.frames.length]).toEqual([1, 1]);
    await settle();
    expect(w.store.progressRows.get('b')!.dismissCursor).toBe(1);
  });

  it('a device that was away is told the dismissals it missed, and not sent what was dismissed', async () => {
    const w = world();
    w.store.addDevice('a');
    commit(w, 1);
    commit(w, 2);
    w.store.dismiss('n1');
    const phone = new FakeConnection('a');
    await w.delivery.attach(phone);
    await settle();
    expect(phone.ids).toEqual([['n2']]);
    expect(phone.dismissed).toEqual([['n1']]);
    expect(w.store.progressRows.get('a')!.dismissCursor).toBe(1);
  });

  it('a dismissal while the backlog loads is not sent once it has loaded', async () => {
    const w = world();
    w.store.addDevice('a');
    commit(w, 1);
    commit(w, 2);
    w.store.backlogGate = gate();
    const phone = new FakeConnection('a');
    const attached = w.delivery.attach(phone);
    await settle();
    const { seq, dismissalSeq } = w.store.dismiss('n1');
    await w.bus.dismissed({ id: 'n1', seq, dismissalSeq, byDevice: null });
    w.store.backlogGate.open();
    await attached;
    expect(phone.ids).toEqual([['n2']]);
  });
});
