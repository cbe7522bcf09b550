import { FEED_DEVICES_LISTED as FEED_DEVICES_PER_ENTRY } from '../../../app/config/defaults';
import { ActivityFeed, FEED_DELTA_MS, type FeedDelta } from '../../../app/dashboard/activity-feed';
import { stored } from '../delivery/fakes';
import { ManualTimers } from '../queue/manual-timers';

// The live feed sends small deltas at most every FEED_DELTA_MS: one notification to 40 phones is
// one event of a few KB, not an event (of the whole entry) per id per device.

function setup() {
  const timers = new ManualTimers();
  const feed = new ActivityFeed(async (id) => `phone ${id}`, FEED_DEVICES_PER_ENTRY, timers);
  const deltas: FeedDelta[] = [];
  feed.subscribe((d) => deltas.push(d));
  return { timers, feed, deltas };
}

/** Lets the feed's device-name lookups (asynchronous) answer. */
const namesLookedUp = () => new Promise((resolve) => setImmediate(resolve));

const devices = Array.from({ length: 40 }, (_, i) => `d${i}`);

describe('ActivityFeed deltas', () => {
  it('one notification sent to and acked by 40 phones is one small event', async () => {
    const { timers, feed, deltas } = setup();
    feed.accepted(stored(1));
    for (const d of devices) feed.sent(d, [{ id: 'n1' }]);
    for (const d of devices) feed.acked(d, [{ id: 'n1' }]);
    expect(deltas).toHaveLength(0);
    await namesLookedUp();
    timers.advance(FEED_DELTA_MS);
    expect(deltas).toHaveLength(1);
    expect(deltas[0].added).toHaveLength(1);
    expect(deltas[0].added[0].deliveries).toHaveLength(40);
    expect(deltas[0].added[0].deliveries.every((d) => d.state === 'acked')).toBe(true);
    expect(deltas[0].deliveries).toEqual([]); // carried by the new entry itself
    expect(JSON.stringify(deltas[0]).length).toBeLessThan(8_000);
  });

  it('later changes carry only what changed, each delivery once with its latest state', async () => {
    const { timers, feed, deltas } = setup();
    feed.accepted(stored(1));
    for (const d of devices) feed.sent(d, [{ id: 'n1' }]);
    await namesLookedUp();
    timers.advance(FEED_DELTA_MS);
    for (const d of devices) feed.acked(d, [{ id: 'n1' }]);
    feed.dismissed('n1', 'd3');
    timers.advance(FEED_DELTA_MS);
    expect(deltas).toHaveLength(2);
    expect(deltas[1].added).toEqual([]);
    expect(deltas[1].deliveries).toHaveLength(40);
    expect(deltas[1].deliveries[0]).toMatchObject({ id: 'n1', deviceId: 'd0', deviceName: 'phone d0', state: 'acked' });
    expect(deltas[1].dismissed).toEqual([{ id: 'n1', by: 'phone d3', at: expect.any(String) }]);
    // The snapshot a page opens with agrees with the deltas.
    expect(feed.recent()[0].deliveries.every((d) => d.state === 'acked')).toBe(true);
  });

  it('at most one event per interval; nothing pending means no event and no timer', async () => {
    const { timers, feed, deltas } = setup();
    feed.accepted(stored(1));
    timers.advance(FEED_DELTA_MS - 1);
    feed.accepted(stored(2));
    timers.advance(1);
    expect(deltas.map((d) => d.added.map((e) => e.id))).toEqual([['n1', 'n2']]);
    expect(timers.pendingCount).toBe(0);
    timers.advance(10 * FEED_DELTA_MS);
    expect(deltas).toHaveLength(1);
    feed.acked('d1', [{ id: 'n2' }]);
    feed.acked('d1', [{ id: 'n2' }]); // acked once: nothing new
    await namesLookedUp();
    timers.advance(FEED_DELTA_MS);
    expect(deltas).toHaveLength(2);
    expect(deltas[1].deliveries).toHaveLength(1);
  });

  it('keeps no delta and arms no timer while nobody listens; stop cancels a pending one', () => {
    const timers = new ManualTimers();
    const feed = new ActivityFeed(async (id) => id, FEED_DEVICES_PER_ENTRY, timers);
    feed.accepted(stored(1));
    feed.sent('d', [{ id: 'n1' }]);
    expect(timers.pendingCount).toBe(0);
    expect(feed.recent()[0].deliveries).toHaveLength(1);
    const seen: FeedDelta[] = [];
    feed.subscribe((d) => seen.push(d));
    feed.acked('d', [{ id: 'n1' }]);
    feed.stop();
    timers.advance(FEED_DELTA_MS);
    expect(seen).toEqual([]);
  });

  it('a delta waits for a name still being looked up, then carries the name (never a placeholder)', async () => {
    const timers = new ManualTimers();
    let answer: (name: string) => void = () => undefined;
    const feed = new ActivityFeed((id) => (id === 'slow' ? new Promise<string>((resolve) => (answer = resolve)) : Promise.resolve(id)), FEED_DEVICES_PER_ENTRY, timers);
    const seen: FeedDelta[] = [];
    feed.subscribe((d) => seen.push(d));
    feed.accepted(stored(1));
    feed.sent('slow', [{ id: 'n1' }]);
    timers.advance(FEED_DELTA_MS);
    await namesLookedUp();
    expect(seen).toEqual([]);
    answer('Kitchen tablet');
    await namesLookedUp();
    expect(seen).toHaveLength(1);
    expect(seen[0].added[0].deliveries).toEqual([expect.objectContaining({ deviceId: 'slow', deviceName: 'Kitchen tablet', state: 'sent' })]);
  });
});

describe('ActivityFeed at many devices', () => {
  it(`lists the first ${FEED_DEVICES_PER_ENTRY} devices by name and counts the rest, each device once`, async () => {
    const { timers, feed, deltas } = setup();
    const many = Array.from({ length: FEED_DEVICES_PER_ENTRY + 30 }, (_, i) => `m${i}`);
    feed.accepted(stored(1));
    for (const d of many) feed.sent(d, [{ id: 'n1' }]);
    for (const d of many) feed.sent(d, [{ id: 'n1' }]); // a redelivery: still one device each
    for (const d of many.slice(0, FEED_DEVICES_PER_ENTRY + 10)) feed.acked(d, [{ id: 'n1' }]);
    await namesLookedUp();
    timers.advance(FEED_DELTA_MS);
    const [entry] = feed.recent();
    expect(entry.deliveries).toHaveLength(FEED_DEVICES_PER_ENTRY);
    expect(entry.others).toEqual({ devices: 30, acked: 10 });
    expect(deltas).toHaveLength(1);
    expect(deltas[0].added[0].others).toEqual({ devices: 30, acked: 10 });
    expect(deltas[0].others).toEqual([]); // carried by the new entry itself

    // Later acks of counted devices travel as the entry's new counts, once per delta.
    for (const d of many.slice(FEED_DEVICES_PER_ENTRY + 10)) feed.acked(d, [{ id: 'n1' }]);
    for (const d of many.slice(FEED_DEVICES_PER_ENTRY + 10)) feed.acked(d, [{ id: 'n1' }]);
    timers.advance(FEED_DELTA_MS);
    expect(deltas).toHaveLength(2);
    expect(deltas[1].others).toEqual([{ id: 'n1', devices: 30, acked: 30 }]);
    expect(deltas[1].deliveries).toEqual([]);
  });

  it('counts each of 5,000 devices once, past the point where the device numbering starts over', () => {
    const { feed } = setup();
    const many = Array.from({ length: 5_000 }, (_, i) => `m${i}`);
    feed.accepted(stored(1));
    for (const d of many) feed.sent(d, [{ id: 'n1' }]);
    for (const d of many.slice(-100)) feed.sent(d, [{ id: 'n1' }]); // redelivered after the start-over: still once
    for (const d of many.slice(-100)) feed.acked(d, [{ id: 'n1' }]);
    const [entry] = feed.recent();
    expect(entry.others).toEqual({ devices: 5_000 - FEED_DEVICES_PER_ENTRY, acked: 100 });
  });
});
