import fc from 'fast-check';
import { DailyFirstUse, FailureWindows, treatmentOf, windowDetails, type WindowedFailures } from '../../../app/domain/audit-policy';

// The audit event policy, pure: failures counted per address per window, a token's use once a
// day, missing credentials to metrics only.

const WINDOW = 600_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

test('which events are folded and how', () => {
  expect(treatmentOf('api_token_refused')).toBe('per_window');
  expect(treatmentOf('auth_failed')).toBe('per_window');
  expect(treatmentOf('pairing_failed')).toBe('per_window');
  expect(treatmentOf('gotify_login_refused')).toBe('per_window');
  expect(treatmentOf('api_token_used')).toBe('daily');
  expect(treatmentOf('api_token_missing')).toBe('metric_only');
  expect(treatmentOf('device_revoked')).toBe('record');
  expect(treatmentOf('ip_blocked')).toBe('record');
});

test('N failures from one address in one window: one entry with count N, written when the window ends', () => {
  const w = new FailureWindows(WINDOW, 100);
  for (let i = 0; i < 7; i++) expect(w.add({ event: 'api_token_refused', actor: 'ip:192.0.2.7', details: { ip: '192.0.2.7', reason: 'unknown_or_revoked' } }, T0 + i * 1000)).toEqual([]);
  w.add({ event: 'api_token_refused', actor: 'ip:192.0.2.8', details: { ip: '192.0.2.8', reason: 'unknown_or_revoked' } }, T0);
  w.add({ event: 'api_token_refused', actor: 'ip:192.0.2.7', details: { ip: '192.0.2.7', reason: 'kind' } }, T0);
  expect(w.due(T0 + 1000)).toEqual([]);
  const windowEnd = Math.floor(T0 / WINDOW) * WINDOW + WINDOW;
  const done = w.due(windowEnd);
  expect(done.map((d) => [d.actor, d.details.reason, d.count])).toEqual([
    ['ip:192.0.2.7', 'unknown_or_revoked', 7],
    ['ip:192.0.2.8', 'unknown_or_revoked', 1],
    ['ip:192.0.2.7', 'kind', 1],
  ]);
  expect(windowDetails(done[0])).toMatchObject({ count: 7, firstAt: new Date(T0).toISOString(), lastAt: new Date(T0 + 6000).toISOString(), reason: 'unknown_or_revoked' });
  expect(w.peek()).toEqual([]);
});

test('past maxOpen the oldest window is handed back to be written early (memory stays bounded)', () => {
  const w = new FailureWindows(WINDOW, 2);
  w.add({ event: 'auth_failed', actor: 'ip:a', details: {} }, T0);
  w.add({ event: 'auth_failed', actor: 'ip:b', details: {} }, T0);
  expect(w.add({ event: 'auth_failed', actor: 'ip:c', details: {} }, T0).map((e) => e.actor)).toEqual(['ip:a']);
  expect(w.peek()).toHaveLength(2);
  expect(w.drain().map((e) => e.actor).sort()).toEqual(['ip:b', 'ip:c']);
});

test('property: every failure is counted exactly once, and with room, one entry per key per window', () => {
  const failure = fc.record({ actor: fc.integer({ min: 0, max: 4 }), reason: fc.integer({ min: 0, max: 2 }), gap: fc.integer({ min: 0, max: 400_000 }) });
  fc.assert(
    fc.property(fc.array(failure, { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (failures, maxOpen) => {
      const w = new FailureWindows(WINDOW, maxOpen);
      const written: WindowedFailures[] = [];
      let now = T0;
      for (const f of failures) {
        now += f.gap;
        written.push(...w.due(now));
        written.push(...w.add({ event: 'pairing_failed', actor: `ip:${f.actor}`, details: { reason: `r${f.reason}` } }, now));
        expect(w.peek().length).toBeLessThanOrEqual(maxOpen);
      }
      written.push(...w.drain());
      expect(written.reduce((n, e) => n + e.count, 0)).toBe(failures.length);
      if (maxOpen >= 15) {
        const keys = written.map((e) => `${e.actor}|${String(e.details.reason)}|${e.windowStartMs}`);
        expect(new Set(keys).size).toBe(keys.length);
      }
      for (const e of written) expect(e.firstMs >= e.windowStartMs && e.lastMs < e.windowEndMs).toBe(true);
    }),
  );
});

test('a token is seen first once per UTC day', () => {
  const d = new DailyFirstUse();
  expect(d.first('token:1', T0)).toBe(true);
  expect(d.first('token:1', T0 + 1000)).toBe(false);
  expect(d.first('token:2', T0 + 1000)).toBe(true);
  const nextDay = DailyFirstUse.dayStart(T0) + 86_400_000;
  expect(d.first('token:1', nextDay - 1)).toBe(false);
  expect(d.first('token:1', nextDay)).toBe(true);
});
