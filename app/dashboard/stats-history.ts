// The dashboard's charts: one point per interval over the last hour (a bounded ring), built
// from counts the daemon feeds in and gauges read when the point is taken.

export interface StatsPoint {
  /** ms since epoch at the end of the interval. */
  t: number;
  accepted: number;
  delivered: number;
  /** ms from acceptance to ack: mean and 95th percentile of the interval (null: none). */
  latencyMeanMs: number | null;
  latencyP95Ms: number | null;
  queueDepth: number;
  rssMb: number;
  heapMb: number;
}

export interface StatsGauges {
  queueDepth: () => number;
  memory: () => { rss: number; heapUsed: number } | null;
}

/** Latencies kept per interval for the percentile: enough for a p95, bounded under load. */
const LATENCY_SAMPLE = 1024;

/**
 * A fixed-size ring of points.
 *
 *   const stats = new StatsHistory(360, gauges);   // an hour at 10 s
 *   stats.accepted(); stats.delivered([0.012]);     // as things happen
 *   stats.tick(Date.now());                         // every interval
 */
export class StatsHistory {
  private readonly ring: StatsPoint[] = [];
  private acceptedCount = 0;
  private deliveredCount = 0;
  private latencySum = 0;
  private latencies: number[] = [];

  constructor(
    private readonly capacity: number,
    private readonly gauges: StatsGauges,
  ) {}

  accepted(): void {
    this.acceptedCount += 1;
  }

  delivered(latenciesSec: number[]): void {
    this.deliveredCount += latenciesSec.length;
    for (const l of latenciesSec) {
      this.latencySum += l;
      if (this.latencies.length < LATENCY_SAMPLE) this.latencies.push(l);
    }
  }

  /** Closes the current interval into a point. */
  tick(now: number): StatsPoint {
    const sorted = this.latencies.sort((a, b) => a - b);
    const memory = this.gauges.memory();
    const point: StatsPoint = {
      t: now,
      accepted: this.acceptedCount,
      delivered: this.deliveredCount,
      latencyMeanMs: this.deliveredCount ? round((this.latencySum / this.deliveredCount) * 1000) : null,
      latencyP95Ms: sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] * 1000) : null,
      queueDepth: this.gauges.queueDepth(),
      rssMb: memory ? round(memory.rss / 1048576) : 0,
      heapMb: memory ? round(memory.heapUsed / 1048576) : 0,
    };
    this.ring.push(point);
    if (this.ring.length > this.capacity) this.ring.shift();
    this.acceptedCount = 0;
    this.deliveredCount = 0;
    this.latencySum = 0;
    this.latencies = [];
    return point;
  }

  points(): StatsPoint[] {
    return [...this.ring];
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
