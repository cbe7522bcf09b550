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
  const web = path.join(__dirname, '..', '..', '..', 'app', 'web');
  for (const dir of ['phone', 'dashboard']) {
    for (const entry of fs.readdirSync(path.join(web, dir))) {
      expect([entry, isTopicName(entry)]).toEqual([entry, false]);
      // /index.html, /sw.js, … are also reachable as their stem on some servers: keep those out too.
      expect([entry, isTopicName(entry.split('.')[0])]).toEqual([entry, false]);
    }
  }
  for (const route of ['dashboard', 'ca', 'trust', 'manifest', 'sw', 'socket', 'api', 'health', 'metrics']) expect(isTopicName(route)).toBe(false);
});

function n(seq: number): StoredNotification {
  return { seq, id: `n${seq}`, title: 't', body: '', app: '', priority: 3, tags: [], url: null, topic: 'x', source: 'ntfy', createdAt: '', dismissedAt: null };
}

test('the hub sends the backlog, then what arrived while it loaded, each seq once, in order', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 10 }), async (stored, during, overlap) => {
      const hub = new SubscriberHub();
      const sent: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const opening = hub.open({ tokenId: 1, accepts: () => true, send: (x) => sent.push(x.seq), close: () => undefined }, async () => {
        await gate;
        // The read saw `stored` plus up to `overlap` of the ones that arrived meanwhile.
        return Array.from({ length: stored + Math.min(overlap, during) }, (_, i) => n(i + 1));
      });
      for (let i = 1; i <= during; i++) hub.accepted(n(stored + i));
      release();
      await opening;
      hub.accepted(n(stored + during + 1));
      expect(sent).toEqual(Array.from({ length: stored + during + 1 }, (_, i) => i + 1));
    }),
  );
});
