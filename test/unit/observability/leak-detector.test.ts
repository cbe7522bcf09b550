import { LeakDetector, limitLevel } from '../../../app/observability/leak-detector';
import { HealthChecks } from '../../../app/observability/health';

// The pure parts of the memory watch and the health cache.

const MB = 1024 * 1024;

describe('LeakDetector', () => {
  const make = () => new LeakDetector({ growthBytes: 8 * MB, rises: 3, noiseBytes: MB / 4 });

  test('three rising post-GC floors adding up to the threshold are a leak', () => {
    const d = make();
    expect(d.floor(20 * MB).suspected).toBe(false);
    expect(d.floor(23 * MB).suspected).toBe(false);
    expect(d.floor(26 * MB).suspected).toBe(false);
    const verdict = d.floor(29 * MB);
    expect(verdict).toMatchObject({ suspected: true, growthBytes: 9 * MB });
  });

  test('a climb that stops, or a small one, is not', () => {
    const d = make();
    for (const f of [20, 23, 26]) d.floor(f * MB);
    expect(d.floor(26 * MB).suspected).toBe(false); // flat: the run resets
    const small = make();
    for (const f of [20, 21, 22, 23, 24]) expect(small.floor(f * MB).suspected).toBe(false);
    expect(small.verdict().growthBytes).toBe(4 * MB);
    const noisy = make();
    for (let i = 0; i < 20; i++) expect(noisy.floor(20 * MB + (i % 2) * 100_000).suspected).toBe(false);
  });

  test('a climb while what the daemon holds grows with it is explained; the same climb at a steady load is not', () => {
    // A thousand phones connecting and their queues filling: floors rise with the load.
    const ramp = make();
    const loads = [0, 400, 1000, 1800, 2600];
    [20, 28, 36, 45, 56].forEach((f, i) => expect(ramp.floor(f * MB, loads[i]).suspected).toBe(false));
    expect(ramp.verdict().growthBytes).toBe(36 * MB);
    // The load falls back to where the climb began and the heap goes on climbing, three windows
    // past the load's highest and 12 MB above its floor: a leak.
    expect([60, 64, 68].map((f) => ramp.floor(f * MB, 0).suspected)).toEqual([false, false, true]);

    // Steady load (phones connected, queues flat): the same climb is a leak, as with no phones.
    const steady = make();
    const verdicts = [20, 28, 36, 45].map((f) => steady.floor(f * MB, 1000).suspected);
    expect(verdicts).toEqual([false, false, false, true]);
  });

  test('a load that only wobbles explains nothing, and a raised verdict does not flap with it', () => {
    // Steady traffic: queues fill and drain, so the load moves up and down around the same level.
    // The climb began at a low moment (200); later windows are above it but below the climb's
    // highest (300, on the 24 MB floor), and the heap keeps climbing: three rises past it and
    // 12 MB above 24 make a leak, not explained by the load.
    const d = make();
    const loads = [200, 300, 250, 280, 260, 290];
    const verdicts = [20, 24, 28, 32, 36, 40].map((f, i) => d.floor(f * MB, loads[i]).suspected);
    expect(verdicts).toEqual([false, false, false, false, true, true]);
    // A new high of the load while the heap still climbs does not clear it (no raise-clear-raise).
    expect(d.floor(44 * MB, 900).suspected).toBe(true);
    // The climb stops: the verdict clears.
    expect(d.floor(44 * MB, 900).suspected).toBe(false);
  });

  test('a heap that settles a window after its load peaked is not a leak; one that goes on climbing is', () => {
    // Measured on a daemon with a thousand phones (bench, fan-out then latency): post-GC floors
    // and loads per 6 s window. The fan-out peaked at 6,481 held notifications; the next window,
    // back at 1,168, read 3.4 MB more, and the heap then stayed there. Counting that one rise
    // past the peak as a leak (three rises in all, 26.6 MB) raised "memory alarm: leak".
    const floors = [17.6, 25.3, 40.8, 44.2, 43.0, 43.3];
    const loads = [225, 1000, 6481, 1168, 1164, 1128];
    const settled = make();
    expect(floors.map((f, i) => settled.floor(f * MB, loads[i]).suspected)).toEqual([false, false, false, false, false, false]);

    // The same start, and then the heap goes on climbing at that load: three rises past the
    // peak, 11.2 MB above its 40.8 MB floor, are a leak.
    const climbing = make();
    const verdicts = [17.6, 25.3, 40.8, 44.2, 48, 52].map((f, i) => climbing.floor(f * MB, loads[i]).suspected);
    expect(verdicts).toEqual([false, false, false, false, false, true]);
  });

  test('limit levels', () => {
    expect(limitLevel(90 * MB, 100 * MB, 200 * MB)).toBe('ok');
    expect(limitLevel(100 * MB, 100 * MB, 200 * MB)).toBe('soft');
    expect(limitLevel(250 * MB, 100 * MB, 200 * MB)).toBe('hard');
  });
});

describe('HealthChecks', () => {
  test('worst status wins, slow checks time out as down, reports are cached', async () => {
    let now = 0;
    let runs = 0;
    const health = new HealthChecks(
      {
        fast: () => {
          runs += 1;
          return { status: 'ok' };
        },
        slow: () => new Promise(() => undefined),
        meh: () => ({ status: 'degraded', reason: 'meh' }),
      },
      { timeoutMs: 50, cacheTtlMs: 1000, now: () => now },
    );
    const report = await health.run();
    expect(report.status).toBe('down');
    expect(report.checks.slow).toMatchObject({ status: 'down', reason: 'no answer within 50 ms' });
    expect(report.checks.meh).toMatchObject({ status: 'degraded', reason: 'meh', latencyMs: expect.any(Number) });
    now = 999;
    await health.run();
    expect(runs).toBe(1);
    now = 1000;
    await health.run();
    expect(runs).toBe(2);
  });
});
