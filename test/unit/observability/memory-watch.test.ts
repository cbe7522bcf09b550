import { PerformanceObserver, constants } from 'node:perf_hooks';
import { MemoryWatch } from '../../../app/observability/memory-watch';

// The watch's leak check reads the heap V8's own full collections leave. It forces one collection
// as start-up ends (so V8's memory reducer returns start-up's spare pages 8 s later, not 16), then
// only past the hard RSS limit: under that, its pause (50 ms at 100 phones, 100-160 ms at 1000)
// would stall every delivery for nothing.

/** Forced full GCs seen while `during` runs (V8 flags a collection asked for by gc() as forced). */
async function forcedGcsDuring(during: () => Promise<void>): Promise<number> {
  let forced = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: { kind?: number; flags?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR && ((detail.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) forced++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  await during();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the observer hears of the last GCs
  observer.disconnect();
  return forced;
}

/** Keeps the event loop about 90 % busy for `ms`: busy slices of 9 ms with a short yield between. */
async function busyFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const slice = Date.now() + 9;
    while (Date.now() < slice) Math.sqrt(Math.random());
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const options = { sampleIntervalMs: 40, softLimitBytes: 1, hardLimitBytes: 8192 * 1024 * 1024, leakGrowthBytes: 64 * 1024 * 1024 };

describe('MemoryWatch full GCs', () => {
  it('forces one as start-up ends, then none under the hard limit, busy or idle (past the soft one too)', async () => {
    const watch = new MemoryWatch(options);
    try {
      // The collection runs on the turn after start(), when the caller's start-up is over.
      expect(
        await forcedGcsDuring(async () => {
          watch.start();
          await new Promise((resolve) => setTimeout(resolve, 300));
        }),
      ).toBe(1);
      // Windows are 3 samples (120 ms): each phase spans about ten of them.
      expect(await forcedGcsDuring(() => busyFor(1_200))).toBe(0);
      expect(await forcedGcsDuring(() => new Promise((resolve) => setTimeout(resolve, 1_200)))).toBe(0);
    } finally {
      watch.stop();
    }
  });

  it('forces them past the hard limit, where holding memory down is worth a pause (and the probe sees them)', async () => {
    const watch = new MemoryWatch({ ...options, hardLimitBytes: 1 });
    watch.start();
    await new Promise((resolve) => setImmediate(resolve)); // start-up's collection is not counted below
    try {
      const forced = await forcedGcsDuring(() => busyFor(1_200));
      expect(forced).toBeGreaterThan(0);
      // At most one per window (3 samples of 40 ms): RSS that stays past the limit does not get a pause per sample.
      expect(forced).toBeLessThanOrEqual(Math.ceil(1_250 / 120) + 1);
    } finally {
      watch.stop();
    }
  });
});
