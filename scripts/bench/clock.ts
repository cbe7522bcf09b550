// One clock for every thread of the bench: the poster stamps a notification with it and a phone
// in a worker thread reads it on receipt, so latency needs no clock sync across threads.

/** Milliseconds on CLOCK_MONOTONIC (process.hrtime), comparable across the bench's worker threads. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
