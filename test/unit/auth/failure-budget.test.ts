import fc from 'fast-check';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { addressKey } from '../../../app/auth/address-key';
import { PointFailureBudget, perAddress, reserveAll, type FailureBudget, type PointStore } from '../../../app/auth/failure-limiter';
import { memoryLimiters } from '../../../app/auth/limiter-factory';
import { BeepError } from '../../../app/domain/errors';

// The failure budget reserves before an attempt is evaluated and refunds on success, so a
// burst of concurrent attempts gets at most `points` evaluated, even when the store answers
// slowly (as Redis does); and addresses are keyed IPv4 as is, IPv6 by /64.

/** A memory store whose answers arrive after a random delay, like a networked store's. */
function slowStore(points: number, seed: number[]): PointStore {
  const inner = new RateLimiterMemory({ points, duration: 60 });
  let i = 0;
  const later = () => new Promise((r) => setTimeout(r, seed[i++ % seed.length]));
  return {
    points,
    consume: async (key, n) => {
      await later();
      return inner.consume(key, n);
    },
    reward: async (key, n) => {
      await later();
      return inner.reward(key, n);
    },
  } as PointStore;
}

/** Runs one attempt: reserve, "evaluate" (counted), then refund when it succeeded. */
async function attempt(budget: FailureBudget, key: string, succeeds: boolean, evaluated: { count: number }): Promise<'ok' | 'wrong' | 'limited'> {
  let reserved;
  try {
    reserved = await budget.reserve(key);
  } catch (error) {
    if (error instanceof BeepError && error.code === 'rate_limited') return 'limited';
    throw error;
  }
  evaluated.count += 1;
  await new Promise((r) => setImmediate(r));
  if (!succeeds) return 'wrong';
  await reserved.refund();
  return 'ok';
}

test('N concurrent wrong attempts against a slow store: exactly `points` are evaluated, the rest refused with Retry-After', async () => {
  const budget = new PointFailureBudget(slowStore(5, [3, 0, 7, 1, 2]));
  const evaluated = { count: 0 };
  const outcomes = await Promise.all(Array.from({ length: 48 }, () => attempt(budget, 'k', false, evaluated)));
  expect(evaluated.count).toBe(5);
  expect(outcomes.filter((o) => o === 'limited')).toHaveLength(43);
  await expect(budget.reserve('k')).rejects.toMatchObject({ code: 'rate_limited', retryAfter: expect.any(Number) });
  // Another key is untouched.
  await expect(budget.reserve('other')).resolves.toMatchObject({ last: false });
});

test('property: any mix of concurrent right and wrong attempts evaluates at most `points` wrong ones', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
      async (points, successes, delays) => {
        const budget = new PointFailureBudget(slowStore(points, delays));
        const evaluated = { count: 0 };
        const outcomes = await Promise.all(successes.map((ok) => attempt(budget, 'k', ok, evaluated)));
        expect(outcomes.filter((o) => o === 'wrong').length).toBeLessThanOrEqual(points);
        // Every attempt not refused was evaluated once.
        expect(evaluated.count).toBe(outcomes.filter((o) => o !== 'limited').length);
      },
    ),
    { numRuns: 60 },
  );
});

test('successes give their point back: a right attempt never spends the budget', async () => {
  const budget = memoryLimiters().failures('t', 2, 60);
  for (let i = 0; i < 10; i++) await (await budget.reserve('k')).refund();
  const first = await budget.reserve('k');
  expect(first.last).toBe(false);
  const second = await budget.reserve('k');
  expect(second.last).toBe(true);
  await expect(budget.reserve('k')).rejects.toBeInstanceOf(BeepError);
  await second.refund();
  await second.refund(); // idempotent: one point back, not two
  await budget.reserve('k');
  await expect(budget.reserve('k')).rejects.toMatchObject({ code: 'rate_limited' });
});

test('reserveAll gives back what it took when a later budget refuses', async () => {
  const make = memoryLimiters();
  const byIp = make.failures('ip', 3, 60);
  const byCode = make.failures('code', 1, 60);
  await byCode.reserve('c'); // the code is spent
  await expect(reserveAll([() => byIp.reserve('a'), () => byCode.reserve('c')])).rejects.toMatchObject({ code: 'rate_limited' });
  // The IP's point came back: three more reservations fit.
  for (let i = 0; i < 3; i++) await byIp.reserve('a');
  await expect(byIp.reserve('a')).rejects.toMatchObject({ code: 'rate_limited' });
});

test('per address: one budget per IPv4 address (mapped or not) and per IPv6 /64', async () => {
  const budget = perAddress(memoryLimiters().failures('addr', 2, 60));
  await budget.reserve('2001:db8:1:2::1');
  await budget.reserve('2001:db8:1:2:ffff:ffff:ffff:ffff');
  await expect(budget.reserve('2001:0db8:0001:0002::9')).rejects.toMatchObject({ code: 'rate_limited' });
  await budget.reserve('2001:db8:1:3::1');
  await budget.reserve('::ffff:192.0.2.1');
  await budget.reserve('192.0.2.1');
  await expect(budget.reserve('::FFFF:c000:0201')).rejects.toMatchObject({ code: 'rate_limited' });
});

test('addressKey', () => {
  expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
  expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
  expect(addressKey('::ffff:c000:207')).toBe('192.0.2.7');
  expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
  expect(addressKey('2001:DB8:1:2::')).toBe('2001:db8:1:2::/64');
  expect(addressKey('::1')).toBe('0:0:0:0::/64');
  expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  expect(addressKey('64:ff9b::192.0.2.7')).toBe('64:ff9b:0:0::/64');
  expect(addressKey('unknown')).toBe('unknown');
});

test('property: every address of one /64 has the same key, and a different /64 a different one', () => {
  const hextet = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
  fc.assert(
    fc.property(fc.array(hextet, { minLength: 8, maxLength: 8 }), fc.array(hextet, { minLength: 4, maxLength: 4 }), (a, tail) => {
      fc.pre(!(a.slice(0, 5).every((x) => x === '0') && a[5] === 'ffff')); // not IPv4-mapped
      const one = a.join(':');
      const sibling = [...a.slice(0, 4), ...tail].join(':');
      expect(addressKey(sibling)).toBe(addressKey(one));
      const other = [...a.slice(0, 3), ((parseInt(a[3], 16) + 1) & 0xffff).toString(16), ...a.slice(4)].join(':');
      expect(addressKey(other)).not.toBe(addressKey(one));
    }),
  );
});
