// How big each bench run is: the full run the issue asks for, and a BENCH_QUICK=1 smoke run.

/** Every size knob in one place, so a quick run and a full run differ only here. */
export interface BenchSizes {
  /** Client counts, one fresh relay process per count and system. */
  clientCounts: number[];
  /** Notifications posted flat out, per client count. */
  flatOut: (clients: number) => number;
  /** Notifications posted (and drained) before measuring, so both systems are JIT-warm. */
  warmUp: number;
  /** In-flight HTTP requests while posting flat out (also the agent's socket cap). */
  concurrency: number;
  /** Posts per second of the fixed-rate phase. */
  fixedRate: number;
  /** Seconds the fixed-rate phase lasts. */
  fixedSeconds: number;
  /** ms after the last answer within which every client must have every notification. */
  drainTimeoutMs: number;
  /** Scrapes of Beep's /metrics whose median is reported. */
  metricsScrapes: number;
  /** ms each run may wait for other processes to quieten down before it starts anyway. */
  quietWaitMs: number;
}

/** The sizes of this run; `quick` shrinks everything for a smoke test. */
export function benchSizes(quick: boolean): BenchSizes {
  if (quick) {
    return {
      clientCounts: [10, 100],
      flatOut: () => 300,
      warmUp: 50,
      concurrency: 64,
      fixedRate: 100,
      fixedSeconds: 2,
      drainTimeoutMs: 20_000,
      metricsScrapes: 5,
      quietWaitMs: 0,
    };
  }
  return {
    clientCounts: [10, 100],
    flatOut: (clients) => (clients <= 10 ? 5000 : 2000),
    warmUp: 300,
    concurrency: 64,
    fixedRate: 200,
    fixedSeconds: 10,
    drainTimeoutMs: 60_000,
    metricsScrapes: 20,
    quietWaitMs: 30_000,
  };
}
