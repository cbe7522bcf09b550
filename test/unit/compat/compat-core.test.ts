import fc from 'fast-check';
import type { StoredNotification } from '../../../app/domain/notification';
import { fromGotifyPriority, toGotifyPriority } from '../../../app/compat/gotify/gotify-message';
import { parseSince } from '../../../app/compat/ntfy/ntfy-subscription';
import { SubscriberHub } from '../../../app/compat/subscriber-hub';
import fs from 'node:fs';
import path from 'node:path';
import { isTopicName, parseTopicList } from '../../../app/compat/topics';

// The pure parts of the compat adapters: since= parsing, the Gotify priority mapping, topic
// names, and the hub's backlog-then-live hand-over (no gap, no repeat).

const NOW = 1_800_000_000_000;

test('since= forms and their order', () => {
  expect(parseSince(undefined, false, NOW)).toEqual({ kind: 'none' });
  expect(parseSince(undefined, true, NOW)).toEqual({ kind: 'all' });
  expect(parseSince('ALL', false, NOW)).toEqual({ kind: 'all' });
  expect(parseSince('latest', false, NOW)).toEqual({ kind: 'latest' });
  expect(parseSince('1635528757', false, NOW)).toEqual({ kind: 'time', ms: 1_635_528_757_000 });
  expect(parseSince('30s', false, NOW)).toEqual({ kind: 'time', ms: NOW - 30_000 });
  expect(parseSince('10m', false, NOW)).toEqual({ kind: 'time', ms: NOW - 600_000 });
  expect(parseSince('2h', false, NOW)).toEqual({ kind: 'time', ms: NOW - 7_200_000 });
  expect(parseSince('1d', false, NOW)).toEqual({ kind: 'time', ms: NOW - 86_400_000 });
  expect(parseSince('nFS3knfcQ1xe', false, NOW)).toEqual({ kind: 'id', id: 'nFS3knfcQ1xe' });
  expect(() => parseSince('a b', false, NOW)).toThrow(expect.objectContaining({ code: 'invalid_query' }));
});

test('Gotify priorities: representative values round-trip, every Beep priority round-trips, bands are monotonic', () => {
  for (const p of [0, 2, 5, 8, 10]) expect(toGotifyPriority(fromGotifyPriority(p))).toBe(p);
  for (const p of [1, 2, 3, 4, 5] as const) expect(fromGotifyPriority(toGotifyPriority(p))).toBe(p);
  fc.assert(fc.property(fc.integer({ min: -5, max: 20 }), fc.integer({ min: -5, max: 20 }), (a, b) => (a <= b ? fromGotifyPriority(a) <= fromGotifyPriority(b) : true)));
});

test('topic lists: distinct names, reserved ones refused', () => {
  expect(parseTopicList('a, b,a')).toEqual(['a', 'b']);
  expect(() => parseTopicList('api')).toThrow(expect.objectContaining({ code: 'reserved_topic' }));
  expect(() => parseTopicList('a.b')).toThrow(expect.objectContaining({ code: 'invalid_topic' }));
  expect(() => parseTopicList(',')).toThrow(expect.objectContaining({ code: 'invalid_topic' }));
});

test('no topic shadows a file or folder the phone app or the dashboard serves', () => {
  // The phone app is served at the gateway's root, so each of its entries is a path a topic could
  // take; the dashboard lives under /dashboard/, so only that folder name matters (listed below).
  const phone = path.join(__dirname, '..', '..', '..', 'app', 'web', 'phone');
  for (const entry of fs.readdirSync(phone)) {
    expect([entry, isTopicName(entry)]).toEqual([entry, false]);
    // /index.html, /sw.js, … are also reachable as their stem on some servers: keep those out too.
    expect([entry, isTopicName(entry.split('.')[0])]).toEqual([entry, false]);
  }
  for (const route of ['dashboard', 'ca', 'trust', 'manifest', 'sw', 'socket', 'api', 'health', 'metrics']) expect(isTopicName(route)).toBe(false);
});

function n(seq: number): StoredNotification {
  return { seq, id: `n${seq}`, title: 't', body: '', app: '', priority: 3, tags: [], url: null, topic: 'x', source: 'ntfy', createdAt: '', dismissedAt: null };
}

/**
 * A model of the hub's world: commits (each handed to `accepted`), a stream that holds at most
 * `capacity` unflushed notifications, and history reads whose snapshot is taken at some moment
 * between the call and the answer (as a read-pool worker's is).
 */
function world(capacity: number, pageSize: number, hub = new SubscriberHub({ pageSize, maxHeld: 3 })) {
  const committed: StoredNotification[] = [];
  const sent: number[] = [];
  let buffered = 0;
  let waiters: ((open: boolean) => void)[] = [];
  const reads: { afterSeq: number; limit: number; snapshot?: StoredNotification[]; answer: (rows: StoredNotification[]) => void }[] = [];
  const feed = {
    tokenId: 1,
    accepts: (x: StoredNotification) => x.seq % 5 !== 0, // a filter: every fifth is not for this feed
    send: (x: StoredNotification) => (buffered < capacity ? (sent.push(x.seq), ++buffered, true) : false),
    drained: () => (buffered < capacity ? Promise.resolve(true) : new Promise<boolean>((r) => waiters.push(r))),
    history: (afterSeq: number, limit: number) => new Promise<StoredNotification[]>((answer) => reads.push({ afterSeq, limit, answer })),
    close: () => undefined,
  };
  const snap = (r: (typeof reads)[number]) => (r.snapshot ??= committed.filter((x) => x.seq > r.afterSeq).slice(0, r.limit));
  return {
    hub, feed, sent, reads,
    commit: () => {
      const x = n(committed.length + 1);
      committed.push(x);
      hub.accepted(x);
    },
    preload: (count: number) => {
      for (let i = 0; i < count; i++) committed.push(n(committed.length + 1));
    },
    drain: () => {
      buffered = 0;
      for (const w of waiters.splice(0)) w(true);
    },
    snap: () => reads[0] && snap(reads[0]),
    answer: () => {
      const r = reads.shift();
      if (r) r.answer(snap(r));
    },
    /** Nothing waits: no read pending, nobody waiting for the stream to drain. */
    quiet: () => reads.length === 0 && waiters.length === 0,
    expected: (from: number) => committed.filter((x) => x.seq > from && x.seq % 5 !== 0).map((x) => x.seq),
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('the hub sends every seq once, in order: backlog or live, a stream that fills and drains, reads racing commits', async () => {
  const action = fc.constantFrom('commit', 'commit', 'commit', 'drain', 'snap', 'answer');
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 12 }), fc.boolean(), fc.array(action, { maxLength: 60 }),
      async (capacity, pageSize, backlog, fromStart, actions) => {
        const w = world(capacity, pageSize);
        w.preload(backlog);
        const from = fromStart ? 0 : backlog;
        w.hub.open(w.feed, fromStart ? 0 : null);
        for (const a of actions) {
          if (a === 'commit') w.commit();
          else if (a === 'drain') w.drain();
          else if (a === 'snap') w.snap();
          else w.answer();
          await settle();
        }
        // Then the reader keeps reading and the reads complete: everything arrives.
        for (let i = 0; i < 500; i++) {
          w.drain();
          w.answer();
          await settle();
          if (w.quiet() && w.sent.length === w.expected(from).length) break;
        }
        expect(w.sent).toEqual(w.expected(from));
        // And it is live again: a new commit goes straight out.
        w.drain();
        w.commit();
        expect(w.sent).toEqual(w.expected(from));
        expect(w.reads).toEqual([]);
      },
    ),
    { numRuns: 300 },
  );
});

test('more arrivals during a catch-up than may be held: history is read again, nothing is lost', async () => {
  const w = world(100, 10); // holds at most 3
  w.hub.open(w.feed, 0);
  await settle();
  w.snap(); // the read sees nothing yet...
  for (let i = 0; i < 6; i++) w.commit(); // ...six arrive meanwhile (four are for this feed)
  w.answer();
  await settle();
  w.answer(); // the read again
  await settle();
  expect(w.sent).toEqual([1, 2, 3, 4, 6]);
  expect(w.quiet()).toBe(true);
});

test('a revoked token closes its feeds; a failed history read closes the feed with the error', async () => {
  const w = world(10, 10);
  const closed: unknown[] = [];
  w.hub.open({ ...w.feed, close: (e?: unknown) => closed.push(e ?? 'revoked') }, null);
  w.hub.open({ ...w.feed, tokenId: 2, history: () => Promise.reject(new Error('disk')), close: (e?: unknown) => closed.push(e) }, 0);
  await settle();
  expect(closed).toEqual([new Error('disk')]);
  w.hub.closeToken(1);
  expect(closed).toEqual([new Error('disk'), 'revoked']);
  expect(w.hub.size).toBe(0);
});
