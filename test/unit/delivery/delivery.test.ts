import { Delivery, type DeliveryOptions } from '../../../app/delivery/delivery';
import { LocalRelayBus } from '../../../app/delivery/relay-bus';
import type { Priority } from '../../../app/domain/priority';
import { ManualTimers } from '../queue/manual-timers';
import { FakeConnection, FakeStore, gate, settle, stored } from './fakes';

// Delivery with injected timers and a store in memory: natural batching and the fan-out, the
// paged backlog and what arrives while it loads, replacements, topic filters, coalesced
// progress saves (per priority), revocation and dismissals.

const OPTIONS: DeliveryOptions = {
  batchWindowMs: 25, maxBatch: 64, maxInFlight: 4, redeliverAfterMs: 1000, fanOutSlice: 64, maxHeld: 512, saveIntervalMs: 200, saveChunkDevices: 100, dismissPage: 512,
};

function world(options: Partial<DeliveryOptions> = {}) {
  const store = new FakeStore();
  const timers = new ManualTimers();
  const deferred: (() => void)[] = [];
  const errors: unknown[] = [];
  const delivery = new Delivery(store, { ...OPTIONS, ...options }, { timers, defer: (fn) => deferred.push(fn) }, { onError: (e) => errors.push(e) });
  const bus = new LocalRelayBus((e) => {
    throw e;
  });
  bus.subscribe(delivery);
  /** Runs the next yielded fan-out slice. */
  const nextSlice = () => deferred.shift()?.();
  return { store, timers, delivery, bus, deferred, nextSlice, errors };
}
type World = ReturnType<typeof world>;

/** Commits a notification to the fake store and publishes it, as ingest does. */
function commit(w: World, seq: number, fields: Parameters<typeof stored>[1] = {}) {
  const n = w.store.add(stored(seq, fields));
  void w.bus.accepted(n);
  return n;
}

/** Connects a phone and lets its first backlog reads finish. */
async function connect(w: World, deviceId: string): Promise<FakeConnection> {
  const phone = new FakeConnection(deviceId);
  await w.delivery.attach(phone);
  await settle(30);
  return phone;
}

describe('Delivery: natural batching and fan-out', () => {
  it('a lone notification to an idle phone leaves at once in its own frame; no timer waits but its redelivery', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = await connect(w, 'd1');
    commit(w, 1);
    expect(phone.ids).toEqual([['n1']]);
    expect(w.timers.now()).toBe(0);
    expect(w.timers.pendingCount).toBe(1);
    expect(w.timers.nextDue()).toBe(OPTIONS.redeliverAfterMs);
  });

  it('while a frame is unacknowledged what arrives gathers, highest priority first, and leaves with the ack', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = await connect(w, 'd1');
    commit(w, 1);
    commit(w, 2);
    commit(w, 3, { priority: 4 as Priority });
    expect(phone.ids).toEqual([['n1']]);
    phone.ack(0);
    expect(phone.ids).toEqual([['n1'], ['n3', 'n2']]);
    expect(w.timers.now()).toBe(0);
  });

  it('encodes once: every device is handed the same serialised item, never one built for it', async () => {
    const w = world();
    const phones = [];
    for (const id of ['a', 'b', 'c']) (w.store.addDevice(id), phones.push(await connect(w, id)));
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
    const phones = [];
    for (const id of ['a', 'b', 'c', 'd', 'e']) (w.store.addDevice(id), phones.push(await connect(w, id)));
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

describe('Delivery: a fan-out that fell behind', () => {
  it('what arrives while it is behind joins the group no device was offered yet: an idle device takes them in one frame', async () => {
    const w = world({ fanOutSlice: 2 });
    const phones = [];
    for (const id of ['a', 'b', 'c', 'd', 'e']) (w.store.addDevice(id), phones.push(await connect(w, id)));
    // A dismissal keeps the fan-out busy (its first slice ran, the rest waits a turn) with no frame in flight.
    w.bus.dismissed({ id: 'gone', seq: 0, dismissalSeq: 1, byDevice: null });
    expect(w.deferred).toHaveLength(1);
    commit(w, 1);
    commit(w, 2);
    commit(w, 3);
    while (w.deferred.length > 0) w.nextSlice();
    // Each device was idle when the three reached it: one frame of three (it was one frame each, then a gathered one).
    expect(phones.map((p) => p.ids)).toEqual(phones.map(() => [['n1', 'n2', 'n3']]));
    // An idle fan-out still sends a lone notification at once, in its own frame.
    for (const phone of phones) phone.ack(0);
    commit(w, 4);
    while (w.deferred.length > 0) w.nextSlice();
    expect(phones.map((p) => p.ids[1])).toEqual(phones.map(() => ['n4']));
  });

  it('a notification after a dismissal is not grouped before it: the dismissal reaches each device first', async () => {
    const w = world({ fanOutSlice: 2 });
    const phones = [];
    for (const id of ['a', 'b', 'c']) (w.store.addDevice(id), phones.push(await connect(w, id)));
    w.bus.dismissed({ id: 'x', seq: 0, dismissalSeq: 1, byDevice: null });
    commit(w, 1);
    w.bus.dismissed({ id: 'n1', seq: 1, dismissalSeq: 2, byDevice: null });
    commit(w, 2);
    while (w.deferred.length > 0) w.nextSlice();
    // n1 was offered alone (its group closed at the dismissal), then the dismissal of n1 told,
    // then n2 offered: the frames are [n1] then [n2], never one group holding both.
    for (const phone of phones) {
      phone.acks();
      expect(phone.dismissed).toEqual([['x'], ['n1']]);
      expect(phone.ids).toEqual([['n1'], ['n2']]);
    }
  });
});

describe('Delivery: the paged backlog', () => {
  it('sends the backlog first, highest priority first, then what arrives', async () => {
    const w = world();
    w.store.addDevice('d1');
    commit(w, 1, { priority: 1 as Priority });
    commit(w, 2, { priority: 5 as Priority });
    commit(w, 3);
    const phone = await connect(w, 'd1');
    expect(phone.ids.flat()).toEqual(['n2', 'n3', 'n1']);
    commit(w, 4);
    phone.acks();
    await settle();
    expect(phone.ids.flat()).toEqual(['n2', 'n3', 'n1', 'n4']);
  });

  it('a 20,000 backlog is read a page at a time: never more than the bound held, every one once, in order', async () => {
    const w = world();
    w.store.addDevice('d1');
    for (let seq = 1; seq <= 20_000; seq++) w.store.add(stored(seq, { priority: (((seq * 7) % 5) + 1) as Priority }));
    const phone = new FakeConnection('d1');
    phone.autoAck = true;
    await w.delivery.attach(phone);
    for (let i = 0; i < 2_000 && phone.ids.flat().length < 20_000; i++) await settle(20);
    const got = phone.ids.flat().map((id) => Number(id.slice(1)));
    expect(got).toHaveLength(20_000);
    const expected = [...got].sort((a, b) => ((b * 7) % 5) - ((a * 7) % 5) || a - b);
    expect(got).toEqual(expected);
    expect(w.delivery.bufferedMax).toBeGreaterThan(0);
    expect(w.delivery.bufferedMax).toBeLessThanOrEqual(w.delivery.bufferBound);
    expect(w.delivery.bufferBound).toBe(512);
    expect(Math.max(...w.store.reads.map((r) => r.limit))).toBeLessThanOrEqual(256);
    // Progress per priority: each ledger stays a bare watermark throughout the catch-up.
    w.timers.advance(OPTIONS.saveIntervalMs);
    await settle();
    for (const writes of w.store.saves) for (const write of writes) for (const p of write.priorities) expect(p.ackedAbove.length).toBeLessThanOrEqual(64);
    for (const p of [1, 2, 3, 4, 5]) expect(w.store.progressRows.get('d1')!.priorities[p]).toEqual({ watermark: Math.max(...got.filter((s) => ((s * 7) % 5) + 1 === p)), ackedAbove: [] });
  });

  it('a new urgent notification overtakes a backlog being sent, even with the session full', async () => {
    const w = world({ maxBatch: 2, maxInFlight: 1, maxHeld: 4 });
    w.store.addDevice('d1');
    for (let seq = 1; seq <= 6; seq++) commit(w, seq);
    const phone = await connect(w, 'd1');
    expect(phone.ids).toEqual([['n1', 'n2']]);
    expect(w.delivery.held).toBeGreaterThanOrEqual(2); // n1 and n2 in flight (the memory watch's load)
    expect(w.delivery.held).toBeLessThanOrEqual(4);
    commit(w, 7, { priority: 5 as Priority });
    await settle();
    phone.ack(0);
    await settle();
    expect(phone.ids.flat()[2]).toBe('n7');
    for (let i = 0; i < 10; i++) (phone.acks(), await settle());
    expect(phone.ids.flat()).toEqual(['n1', 'n2', 'n7', 'n3', 'n4', 'n5', 'n6']);
    expect(w.delivery.bufferedMax).toBeLessThanOrEqual(4);
    expect(w.delivery.held).toBe(0);
  });

  it('merges what arrives while the backlog loads, once each, in order', async () => {
    const w = world();
    w.store.addDevice('d1');
    commit(w, 1);
    w.store.pageGate = gate();
    const phone = new FakeConnection('d1');
    await w.delivery.attach(phone);
    await settle();
    commit(w, 2); // committed after the page's snapshot
    commit(w, 3, { priority: 5 as Priority });
    expect(phone.frames).toHaveLength(0);
    w.store.pageGate.open();
    w.store.pageGate = null;
    await settle(30);
    expect(phone.ids.flat()).toEqual(['n3', 'n1', 'n2']);
    w.timers.advance(100);
    phone.acks();
    await settle();
    expect(phone.ids.flat()).toEqual(['n3', 'n1', 'n2']);
  });

  it('a replacement settles what it replaces: held in memory or still in a page being read', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = await connect(w, 'd1');
    commit(w, 1, { id: 'old' });
    expect(phone.ids).toEqual([['old']]);
    w.store.replace('old');
    commit(w, 2, { id: 'new', replaces: 'old' });
    phone.ack(1);
    w.timers.advance(5000); // the unacked `old` is never redelivered
    expect(phone.ids).toEqual([['old'], ['new']]);
    w.timers.advance(OPTIONS.saveIntervalMs);
    await settle();
    expect(w.store.watermark('d1')).toBe(2);

    // A replacement committed while the page holding the old version is being read.
    w.store.addDevice('d2');
    commit(w, 3, { id: 'old2' });
    w.store.pageGate = gate();
    const late = new FakeConnection('d2');
    await w.delivery.attach(late);
    await settle();
    w.store.replace('old2');
    commit(w, 4, { id: 'new2', replaces: 'old2' });
    w.store.pageGate.open();
    w.store.pageGate = null;
    await settle(30);
    expect(late.ids.flat()).toEqual(['new', 'new2']);
  });

  it('a device with topics gets those and untopiced ones; the rest is settled at once', async () => {
    const w = world();
    w.store.addDevice('d1', 0, ['alerts']);
    commit(w, 1, { topic: 'chat' });
    commit(w, 2, { topic: 'alerts' });
    const phone = await connect(w, 'd1');
    commit(w, 3);
    commit(w, 4, { topic: 'chat' });
    expect(phone.ids).toEqual([['n2']]);
    phone.acks();
    expect(phone.ids).toEqual([['n2'], ['n3']]);
    phone.acks();
    w.timers.advance(OPTIONS.saveIntervalMs);
    await settle();
    expect(w.store.watermark('d1')).toBe(4);
    w.delivery.setTopics('d1', null);
    commit(w, 5, { topic: 'chat' });
    expect(phone.ids[2]).toEqual(['n5']);
  });

  it('a reconnecting device is sent only what it did not ack before', async () => {
    const w = world();
    w.store.addDevice('d1');
    for (let seq = 1; seq <= 3; seq++) commit(w, seq);
    const first = await connect(w, 'd1');
    first.ack(0, ['n1', 'n3']);
    w.delivery.detach('d1', first); // written now, not after the interval
    const second = await connect(w, 'd1');
    expect(second.ids.flat()).toEqual(['n2']);
    expect(w.store.progressRows.get('d1')!.priorities[3]).toEqual({ watermark: 1, ackedAbove: [3] });
  });
});

describe('Delivery: coalesced progress', () => {
  it('acks within one interval are one write, of every device that moved; the write holds every ack', async () => {
    const w = world();
    for (const id of ['a', 'b']) w.store.addDevice(id);
    for (let seq = 1; seq <= 8; seq++) commit(w, seq);
    const [a, b] = [await connect(w, 'a'), await connect(w, 'b')];
    for (const id of a.frames[0].items.map((i) => i.id)) a.ack(0, [id]);
    b.acks();
    await settle();
    expect(w.store.saves).toHaveLength(0);
    w.timers.advance(OPTIONS.saveIntervalMs - 1);
    await settle();
    expect(w.store.saves).toHaveLength(0);
    w.timers.advance(1);
    await settle();
    expect(w.store.saves).toHaveLength(1);
    expect(w.store.saves[0].map((write) => write.deviceId).sort()).toEqual(['a', 'b']);
    expect(w.store.saves[0].every((write) => write.priorities.length === 1)).toBe(true); // only priority 3 moved
    expect(w.store.progressRows.get('a')!.priorities[3]).toEqual({ watermark: 8, ackedAbove: [] });
  });

  it('a disconnect writes at once; stop writes every device still connected', async () => {
    const w = world();
    for (const id of ['a', 'b']) w.store.addDevice(id);
    commit(w, 1);
    const [a, b] = [await connect(w, 'a'), await connect(w, 'b')];
    a.acks();
    b.acks();
    w.delivery.detach('a', a);
    await settle();
    expect(w.store.saves.flat().map((x) => x.deviceId).sort()).toEqual(['a', 'b']); // one write took both
    commit(w, 2);
    b.acks();
    await w.delivery.closeAll();
    expect(w.store.watermark('b')).toBe(2);
    expect(b.closed).toBe(true);
  });
});

describe('Delivery: revocation and dismissals', () => {
  it('a revoked device is told and cut off; nothing more is sent to it', async () => {
    const w = world();
    w.store.addDevice('d1');
    const phone = await connect(w, 'd1');
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
    const phone = await connect(w, 'ghost');
    expect(phone.revoked).toBe(true);
    expect(w.delivery.isOnline('ghost')).toBe(false);
  });

  it('a dismissal reaches the other devices, settles it everywhere, and moves their cursors (coalesced)', async () => {
    const w = world();
    w.store.addDevice('a');
    w.store.addDevice('b');
    const [a, b] = [await connect(w, 'a'), await connect(w, 'b')];
    commit(w, 1);
    const { seq, dismissalSeq } = w.store.dismiss('n1');
    await w.bus.dismissed({ id: 'n1', seq, dismissalSeq, byDevice: 'a' });
    expect(a.dismissed).toEqual([]);
    expect(b.dismissed).toEqual([['n1']]);
    w.timers.advance(5000); // neither device gets it again
    expect([a.frames.length, b.frames.length]).toEqual([1, 1]);
    await settle();
    expect(w.store.saves).toHaveLength(1);
    expect(w.store.progressRows.get('b')!.dismissCursor).toBe(1);
    expect(w.store.watermark('b')).toBe(1);
  });

  it('a device that was away is told the dismissals it missed, a page at a time, and not sent what was dismissed', async () => {
    const w = world({ dismissPage: 2 });
    w.store.addDevice('a');
    for (let seq = 1; seq <= 4; seq++) commit(w, seq);
    for (const id of ['n1', 'n2', 'n3']) w.store.dismiss(id);
    const phone = await connect(w, 'a');
    expect(phone.ids).toEqual([['n4']]);
    expect(phone.dismissed).toEqual([['n1', 'n2'], ['n3']]);
    w.timers.advance(OPTIONS.saveIntervalMs);
    await settle();
    expect(w.store.progressRows.get('a')!.dismissCursor).toBe(3);
  });

  it('a dismissal while the backlog loads is not sent once it has loaded', async () => {
    const w = world();
    w.store.addDevice('a');
    commit(w, 1);
    commit(w, 2);
    w.store.pageGate = gate();
    const phone = new FakeConnection('a');
    await w.delivery.attach(phone);
    await settle();
    const { seq, dismissalSeq } = w.store.dismiss('n1');
    await w.bus.dismissed({ id: 'n1', seq, dismissalSeq, byDevice: null });
    w.store.pageGate.open();
    w.store.pageGate = null;
    await settle(30);
    expect(phone.ids).toEqual([['n2']]);
  });

  it('counts what a device is owed from its progress in memory when online, from the store when not', async () => {
    const w = world();
    w.store.addDevice('a', 0, ['alerts']);
    commit(w, 1);
    commit(w, 2, { topic: 'chat' });
    commit(w, 3, { priority: 5 as Priority });
    expect(await w.delivery.owed('a')).toBe(2);
    const phone = await connect(w, 'a');
    phone.ack(0, ['n3']);
    expect(await w.delivery.owed('a')).toBe(1); // acked, not yet written
    expect(await w.delivery.owed('nobody')).toBe(0);
  });
});
