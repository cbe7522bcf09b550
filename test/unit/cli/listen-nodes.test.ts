import { NodeRoster, RETRY_MAX_MS, RETRY_MIN_MS, retryDelay, validNodes } from '../../../app/cli/listen-nodes';

// `beep listen`'s node list: the paired node first, the others round-robin, retries jittered
// and capped, and only https origins taken from an answer.

const A = 'https://a.lan:2337';
const B = 'https://b.lan:2337';
const C = 'https://c.lan:2337';

test('the preferred node first, then the others in turn, back to the preferred one', () => {
  const roster = new NodeRoster(A, [
    { url: B, id: 'b' },
    { url: A, id: 'a' },
  ]);
  expect(roster.all.map((n) => n.url)).toEqual([A, B]);
  expect(roster.next(A)).toBe(B);
  expect(roster.next(B)).toBe(A);
  roster.update([{ url: B, id: 'b' }, { url: C, id: 'c' }]);
  // A node missing from the latest list is still the preferred one; the new node joins the round.
  expect(roster.all.map((n) => n.url)).toEqual([A, B, C]);
  expect([roster.next(A), roster.next(B), roster.next(C)]).toEqual([B, C, A]);
  expect(roster.next('https://gone.lan:2337')).toBe(A);
  expect(roster.name(C)).toBe('c');
  expect(roster.name(A)).toBe('a');
  // An empty answer keeps what it knew.
  roster.update([]);
  expect(roster.all).toHaveLength(3);
});

test('retry delays are jittered within [ceiling/2, ceiling], doubling from 1 s and capped at 30 s', () => {
  expect(retryDelay(0, () => 0)).toBe(RETRY_MIN_MS / 2);
  expect(retryDelay(0, () => 1)).toBe(RETRY_MIN_MS);
  expect(retryDelay(3, () => 1)).toBe(8 * RETRY_MIN_MS);
  expect(retryDelay(50, () => 1)).toBe(RETRY_MAX_MS);
  expect(retryDelay(50, () => 0)).toBe(RETRY_MAX_MS / 2);
});

test('only https origins are taken from an answer', () => {
  expect(validNodes([{ url: 'https://a.lan:2337/x', id: 'a' }, { url: 'http://b.lan', id: 'b' }, { url: 'not a url' }, { url: 7 }, null, { url: 'https://c.lan' }])).toEqual([
    { url: 'https://a.lan:2337', id: 'a' },
    { url: 'https://c.lan', id: 'c.lan' },
  ]);
  expect(validNodes(undefined)).toEqual([]);
  expect(validNodes(Array.from({ length: 100 }, (_, i) => ({ url: `https://n${i}.lan`, id: String(i) })))).toHaveLength(32);
});
