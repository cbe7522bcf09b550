// Small numeric helpers for the report: percentiles, medians and human formatting.

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** Median: what each figure reports over its runs. */
export function median(samples: ArrayLike<number>): number {
  return percentile(samples, 50);
}

const missing = (v: number | undefined): v is undefined => v === undefined || !Number.isFinite(v);

/** Thousands-separated integer, e.g. 12,345; '-' for a missing value. */
export function formatCount(value: number | undefined): string {
  return missing(value) ? '-' : Math.round(value).toLocaleString('en-US');
}

/** Milliseconds with a precision that suits their size. */
export function formatMs(value: number | undefined): string {
  if (missing(value)) return '-';
  return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} ms`;
}

/** Microseconds, one decimal. */
export function formatUs(value: number | undefined): string {
  return missing(value) ? '-' : `${value.toFixed(1)} µs`;
}

/** MB (10^6 bytes, as the figures), given in MB. */
export function formatMb(value: number | undefined): string {
  return missing(value) ? '-' : `${value.toFixed(1)} MB`;
}

/** KB (10^3 bytes), given in KB. */
export function formatKb(value: number | undefined): string {
  return missing(value) ? '-' : `${value.toFixed(1)} KB`;
}

/** A 0..1 share as a whole percentage. */
export function formatPercent(value: number | undefined): string {
  return missing(value) ? '-' : `${(value * 100).toFixed(0)} %`;
}

/** a/b as 'x.xx', or '-' when either side is missing or b is zero. */
export function formatRatio(a: number | undefined, b: number | undefined): string {
  if (missing(a) || missing(b) || b === 0) return '-';
  return (a / b).toFixed(2);
}

/** Bytes → MB (10^6). */
export function toMb(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / 1e6;
}
