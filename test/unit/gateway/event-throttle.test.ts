import fc from 'fast-check';
import { EventThrottle } from '../../../app/gateway/event-throttle';

// The per-socket token bucket with an injected clock.

test('a burst is accepted, then drops, then a disconnect after N drops in a row', () => {
  const now = 0;
  const t = new EventThrottle({ ratePerSec: 10, burst: 3, disconnectAfter: 4 }, () => now);
  expect([t.admit(), t.admit(), t.admit()]).toEqual(['accept', 'accept', 'accept']);
  expect([t.admit(), t.admit(), t.admit(), t.admit()]).toEqual(['drop', 'drop', 'drop', 'disconnect']);
});

test('tokens refill at the rate, never above the burst; an accepted event ends the streak', () => {
  let now = 0;
  const t = new EventThrottle({ ratePerSec: 10, burst: 2, disconnectAfter: 3 }, () => now);
  t.admit();
  t.admit();
  expect(t.admit()).toBe('drop');
  expect(t.admit()).toBe('drop');
  now += 100; // one token
  expect(t.admit()).toBe('accept');
  expect(t.admit()).toBe('drop'); // streak restarted: 1
  expect(t.admit()).toBe('drop');
  now += 60_000;
  expect([t.admit(), t.admit(), t.admit()]).toEqual(['accept', 'accept', 'drop']);
});

test('property: over any schedule, accepted events never exceed burst + rate × elapsed', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 300 }), (gaps) => {
      let now = 0;
      const t = new EventThrottle({ ratePerSec: 10, burst: 5, disconnectAfter: 1e9 }, () => now);
      let accepted = 0;
      for (const gap of gaps) {
        now += gap;
        if (t.admit() === 'accept') accepted++;
      }
      return accepted <= 5 + Math.floor((now / 1000) * 10) + 1;
    }),
  );
});
