// How big each bench run is: the full run issue 12 asks for, and a BENCH_QUICK=1 smoke run
// that goes through every scenario with small counts and short phases.

/** Every size knob in one place, so a quick run and a full run differ only here. */
export interface BenchSizes {
  /** Times every selected scenario runs; each figure is the median of its counting runs. */
  runs: number;
  /** Phone counts of the fan-out and latency scenarios. */
  phoneCounts: number[];
  /** Phones of the cluster scenario (split between its two nodes). */
  clusterPhones: number;
  /** ms after a server is ready (daemon.json / ports printed) before idle RSS is read. */
  idleWaitMs: number;
  /** ms a server gets to settle before an RSS reading (after pairing, connecting, load). */
  settleMs: number;
  /** Posts (drained) before a measured phase, so every system is JIT-warm. */
  ingestWarmUp: number;
  /** Posts of the ingest phase, flat out, no phones. */
  ingestPosts: number;
  /** HTTP requests in flight while posting flat out (also the agent's socket cap). */
  concurrency: number;
  fanoutWarmUp: (phones: number) => number;
  fanoutPosts: (phones: number) => number;
  /** Posts the poster may be ahead of the slowest phone (issue 12: 64). */
  fanoutWindow: number;
  /** Deliveries per second of the latency phases (posts/s = this / phones; issue 12: 20,000). */
  latencyDeliveriesPerSec: number;
  /** Seconds each latency phase (default priority, then urgent) lasts. */
  latencySeconds: number;
  /** Notifications pending for the offline phone in the catch-up (issue 12: 100,000). */
  catchupPending: number;
  /** ms between /health probes during the catch-up (issue 12: 50). */
  healthProbeMs: number;
  /** ms after the last post within which every phone must have every notification. */
  drainTimeoutMs: number;
  /** ms the catch-up may take before the bench gives up on it. */
  catchupTimeoutMs: number;
  /** ms each run may wait for other processes to quieten down before it starts anyway. */
  quietWaitMs: number;
  /** Phones per worker thread (each its own event loop on the client core). */
  phonesPerWorker: number;
  /** Client core busy share above which a phase measured the clients and does not count. */
  saturatedAbove: number;
}

const FULL: BenchSizes = {
  runs: 3,
  phoneCounts: [100, 1000],
  clusterPhones: 100,
  idleWaitMs: 10_000,
  settleMs: 2_000,
  ingestWarmUp: 1_000,
  ingestPosts: 20_000,
  concurrency: 64,
  fanoutWarmUp: (phones) => (phones >= 1000 ? 50 : 300),
  fanoutPosts: (phones) => Math.round(500_000 / phones),
  fanoutWindow: 64,
  latencyDeliveriesPerSec: 20_000,
  latencySeconds: 10,
  catchupPending: 100_000,
  healthProbeMs: 50,
  drainTimeoutMs: 60_000,
  catchupTimeoutMs: 300_000,
  quietWaitMs: 30_000,
  phonesPerWorker: 250,
  saturatedAbove: 0.9,
};

/** The sizes of this run; `quick` shrinks counts and phases (not the rates) for a smoke test. */
export function benchSizes(quick: boolean): BenchSizes {
  if (!quick) return FULL;
  return {
    ...FULL,
    runs: 1,
    idleWaitMs: 3_000,
    settleMs: 500,
    ingestWarmUp: 100,
    ingestPosts: 1_000,
    fanoutWarmUp: (phones) => (phones >= 1000 ? 5 : 20),
    fanoutPosts: (phones) => Math.round(20_000 / phones),
    latencySeconds: 2,
    catchupPending: 5_000,
    drainTimeoutMs: 30_000,
    catchupTimeoutMs: 60_000,
    quietWaitMs: 0,
  };
}
