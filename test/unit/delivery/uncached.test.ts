import { Delivery, type DeliveryOptions } from '../../../app/delivery/delivery';
import { LocalRelayBus } from '../../../app/delivery/relay-bus';
import { ManualTimers } from '../queue/manual-timers';
import { FakeConnection, FakeStore, settle, stored } from './fakes';

// ntfy `Cache: no` in delivery: a notification carrying `owedTo` (the devices connected when it
// was accepted) is sent to those devices only, live or from the backlog after a reconnect; every
// other device settles it unseen, so its watermark moves past it and never waits on it.

const OPTIONS: DeliveryOptions = {
  batchWindowMs: 25, maxBatch: 64, maxInFlight: 4, redeliverAfterMs: 1000, fanOutSlice: 64, maxHeld: 512, saveIntervalMs: 200, saveChunkDevices: 100, dismissPage: 512,
};

function world() {
  const store = new FakeStore();
  const timers = new ManualTimers();
  const delivery = new Delivery(store, OPTIONS, { timers, defer: (fn) => fn() }, {});
  const bus = new LocalRelayBus((e) => {
    throw e;
  });
  bus.subscribe(delivery);
  return { store, timers, delivery, bus };
}
type World = ReturnType<typeof world>;

async function connect(w: World, deviceId: string): Promise<FakeConnection> {
  const phone = new FakeConnection(deviceId);
  await w.delivery.attach(phone);
  await settle(30);
  return phone;
}

async function saved(w: World): Promise<void> {
  w.timers.advance(OPTIONS.saveIntervalMs);
  await settle();
}

describe('Cache: no (owedTo) in delivery', () => {
  it('live: only the devices it is owed to get it; another connected device settles it unseen and its watermark passes it', async () => {
    const w = world();
    w.store.addDevice('a');
    w.store.addDevice('b');
    const a = await connect(w, 'a');
    const b = await connect(w, 'b');
    void w.bus.accepted(w.store.add(stored(1, { owedTo: ['a'], uncached: true })));
    void w.bus.accepted(w.store.add(stored(2)));
    expect(a.ids.flat()).toEqual(['n1']);
    a.acks();
    b.acks();
    await settle();
    expect(a.ids.flat()).toEqual(['n1', 'n2']);
    expect(b.ids.flat()).toEqual(['n2']);
    await saved(w);
    expect(w.store.watermark('a')).toBe(2);
    expect(w.store.watermark('b')).toBe(2);
  });

  it('backlog: a device it is owed to that dropped before acking gets it on reconnect; a device that was away never does, and passes it', async () => {
    const w = world();
    for (const id of ['a', 'away']) w.store.addDevice(id);
    const a = await connect(w, 'a');
    void w.bus.accepted(w.store.add(stored(1, { owedTo: ['a'], uncached: true })));
    expect(a.ids.flat()).toEqual(['n1']);
    w.delivery.detach('a', a); // gone before its ack
    await settle();
    w.store.add(stored(2));
    const again = await connect(w, 'a');
    expect(again.ids.flat()).toEqual(['n1', 'n2']);
    const away = await connect(w, 'away');
    expect(away.ids.flat()).toEqual(['n2']);
    again.acks();
    away.acks();
    await settle();
    await saved(w);
    expect(w.store.watermark('a')).toBe(2);
    expect(w.store.watermark('away')).toBe(2);
  });

  it('owed to nobody (no device was connected): no device is sent it, each settles it', async () => {
    const w = world();
    w.store.addDevice('late');
    w.store.add(stored(1, { owedTo: [], uncached: true }));
    const late = await connect(w, 'late');
    expect(late.ids.flat()).toEqual([]);
    await saved(w);
    expect(w.store.watermark('late')).toBe(1);
  });
});
