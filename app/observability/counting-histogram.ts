import type { Registry } from 'prom-client';

// A label-less Prometheus histogram for values observed on the delivery path (one per
// notification per device): observing is a bucket search and three increments, where
// prom-client's Histogram validates and hashes labels on every call. It registers itself as a
// custom metric (prom-client's `registerMetric` with `get()`), so /metrics shows it exactly as
// a prom-client histogram: `_bucket{le}` cumulative, `_sum`, `_count`.

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * Counts observations into fixed buckets.
 *
 *   const latency = new CountingHistogram('beep_delivery_latency_seconds', 'Time from …', [0.01, 0.1, 1], [registry]);
 *   latency.observe(0.004);
 */
export class CountingHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: number[];
  /** Per bucket (not cumulative), the last one for values above every bound (+Inf). */
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registers: Registry[],
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    this.counts = new Array<number>(this.bounds.length + 1).fill(0);
    for (const registry of registers) registry.registerMetric(this as never);
  }

  /** One observation; a value that is not a finite number is ignored (as prom-client would throw). */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Several observations at once (a batch's acks). */
  observeAll(values: readonly number[]): void {
    for (const v of values) this.observe(v);
  }

  /** What prom-client's registry serialises (the shape its own Histogram gives). */
  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    const values: MetricValue[] = [];
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += this.counts[i];
      values.push({ labels: { le }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
