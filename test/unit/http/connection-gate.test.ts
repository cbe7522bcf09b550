import fc from 'fast-check';
import { ConnectionGate } from '../../../app/http/connection-gate';

// The per-address connection caps as pure bookkeeping: concurrent count and a token bucket.

test('count cap, rate cap with burst and refill, per address', () => {
  let now = 0;
  const gate = new ConnectionGate({ perAddress: 2, perSecond: 1, burst: 3 }, () => now);
  expect(gate.admit('a')).toBeUndefined();
  expect(gate.admit('a')).toBeUndefined();
  expect(gate.admit('a')).toBe('connection_count');
  expect(gate.admit('b')).toBeUndefined();
  gate.release('a');
  expect(gate.admit('a')).toBeUndefined(); // third of the burst
  gate.release('a');
  expect(gate.admit('a')).toBe('connection_rate');
  now += 1000;
  expect(gate.admit('a')).toBeUndefined();
  expect(gate.openFrom('a')).toBe(2);
});

test('property: never more than perAddress open, never more than burst + perSecond × elapsed admitted', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ open: fc.boolean(), address: fc.constantFrom('a', 'b', 'c'), wait: fc.nat(400) }), { maxLength: 300 }),
      (steps) => {
        let now = 0;
        const limits = { perAddress: 4, perSecond: 5, burst: 8 };
        const gate = new ConnectionGate(limits, () => now);
        const open = new Map<string, number>();
        const admitted = new Map<string, number>();
        for (const step of steps) {
          now += step.wait;
          const n = open.get(step.address) ?? 0;
          if (step.open) {
            if (gate.admit(step.address) === undefined) {
              open.set(step.address, n + 1);
              admitted.set(step.address, (admitted.get(step.address) ?? 0) + 1);
            }
          } else if (n > 0) {
            gate.release(step.address);
            open.set(step.address, n - 1);
          }
          expect(open.get(step.address) ?? 0).toBeLessThanOrEqual(limits.perAddress);
          expect(admitted.get(step.address) ?? 0).toBeLessThanOrEqual(limits.burst + (now / 1000) * limits.perSecond);
          expect(gate.openFrom(step.address)).toBe(open.get(step.address) ?? 0);
        }
      },
    ),
  );
});
